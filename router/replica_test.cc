#include "router/replica.h"

#include <gtest/gtest.h>

#include <thread>

namespace quarry::router {
namespace {

const grpc::Status kUnavailable(grpc::StatusCode::UNAVAILABLE, "connection refused");

TEST(Replica, RepeatedErrorsEjectAndHealthChecksBringItBack) {
  ReplicaOptions options;
  options.eject_after_errors = 3;
  options.eject_for = std::chrono::milliseconds(50);
  Replica replica("127.0.0.1:1", options);
  replica.SetServing(true);
  ASSERT_TRUE(replica.readable());

  // Errors caused by the request, and cancellations, do not count.
  for (int i = 0; i < 5; ++i) {
    replica.CallStarted();
    replica.CallFinished(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad k"),
                         std::chrono::microseconds(10));
    replica.CallStarted();
    replica.CallFinished(grpc::Status::CANCELLED, std::chrono::microseconds(10));
  }
  EXPECT_FALSE(replica.ejected());

  for (int i = 0; i < 3; ++i) {
    replica.CallStarted();
    replica.CallFinished(kUnavailable, std::chrono::microseconds(10));
  }
  EXPECT_TRUE(replica.ejected());
  EXPECT_FALSE(replica.readable());
  EXPECT_EQ(replica.outstanding(), 0);

  replica.SetServing(true);  // too early: the ejection lasts eject_for
  EXPECT_TRUE(replica.ejected());
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  replica.SetServing(true);
  EXPECT_FALSE(replica.ejected());
  EXPECT_TRUE(replica.readable());
}

TEST(Replica, MissedWritesQueueInOrderUntilRepaired) {
  Replica replica("127.0.0.1:1", ReplicaOptions());
  replica.SetServing(true);
  auto first = std::make_shared<ShardWrite>();
  auto second = std::make_shared<ShardWrite>();
  EXPECT_FALSE(replica.QueueIfStale(first));  // up to date: the caller sends it

  replica.MarkMissed(first, "timed out");
  EXPECT_TRUE(replica.stale());
  EXPECT_FALSE(replica.readable());
  EXPECT_TRUE(replica.QueueIfStale(second));
  EXPECT_EQ(replica.pending_writes(), 2u);

  EXPECT_EQ(replica.NextMissedWrite(), first);
  replica.WriteRepaired();
  EXPECT_TRUE(replica.stale());
  EXPECT_EQ(replica.NextMissedWrite(), second);
  replica.WriteRepaired();
  EXPECT_FALSE(replica.stale());
  EXPECT_EQ(replica.NextMissedWrite(), nullptr);
  EXPECT_TRUE(replica.readable());
}

}  // namespace
}  // namespace quarry::router
