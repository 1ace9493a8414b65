// quarry_load: a gRPC load generator for a running Quarry service. It sends searches (to a
// router or a shard), ingests (to a router), questions (to an answer service) or gRPC health
// checks (to any, the floor of a round trip), in a closed loop of N callers or an open loop at
// a fixed arrival rate, and prints the latency percentiles from a log-linear histogram, the
// achieved rate and the failures by status code, as text or JSON.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/clustered_vectors.h"
#include "bench/load_generator.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "quarry/v1/answer.grpc.pb.h"
#include "quarry/v1/router.grpc.pb.h"
#include "quarry/v1/shard.grpc.pb.h"

namespace quarry::bench {
namespace {

struct Flags {
  std::string target = "127.0.0.1:7300";
  std::string call = "search";  // search | shard-search | ingest | ask | echo
  std::string mode = "closed";
  int concurrency = 4;
  double rate = 100;
  std::string arrivals = "poisson";
  int max_in_flight = 4096;
  double warmup = 2;
  double duration = 10;
  uint64_t requests = 0;
  int channels = 4;
  double deadline = 10;
  // What the requests carry.
  std::string tenant = "bench";
  int k = 10;
  int dimension = 128;
  std::string text;  // search by text (embedded by the router) instead of by vector
  std::string question = "How do I create an index on an expression?";
  int documents_per_request = 32;
  int vector_pool = 20000;
  uint64_t seed = 42;
  bool json = false;
};

// Draws from the same clusters as shard_bench's data, so that loads hit realistic lists.
constexpr int kClusters = 1000;
constexpr float kSpread = 1.4f;
constexpr uint64_t kQueryStream = 1;
constexpr uint64_t kDocumentStream = 2;

// One unary call's state, alive until its callback has run.
template <typename Request, typename Response>
struct UnaryCall {
  grpc::ClientContext context;
  Request request;
  Response response;
};

template <typename Request, typename Response>
std::shared_ptr<UnaryCall<Request, Response>> NewCall(const Flags& flags) {
  auto call = std::make_shared<UnaryCall<Request, Response>>();
  call->context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::milliseconds(static_cast<int64_t>(flags.deadline * 1e3)));
  return call;
}

// Reads a streamed answer to its end. Owns itself from StartCall until OnDone, when it reports
// the status and releases that ownership.
class AskReader : public grpc::ClientReadReactor<v1::AskResponse> {
 public:
  static void Start(v1::Answer::Stub& stub, const v1::AskRequest& request, const Flags& flags,
                    CallDone done) {
    auto reader = std::shared_ptr<AskReader>(new AskReader(request, std::move(done)));
    reader->context_.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(flags.deadline * 1e3)));
    reader->self_ = reader;
    stub.async()->Ask(&reader->context_, &reader->request_, reader.get());
    reader->StartRead(&reader->response_);
    reader->StartCall();
  }

  void OnReadDone(bool ok) override {
    if (ok) StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    done_(status);
    self_.reset();  // the last reference: this object is gone after this line
  }

 private:
  AskReader(v1::AskRequest request, CallDone done)
      : request_(std::move(request)), done_(std::move(done)) {}

  grpc::ClientContext context_;
  const v1::AskRequest request_;
  v1::AskResponse response_;
  CallDone done_;
  std::shared_ptr<AskReader> self_;
};

// The channels the calls are spread over, each with a connection of its own.
std::vector<std::shared_ptr<grpc::Channel>> OpenChannels(const Flags& flags) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < std::max(1, flags.channels); ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("quarry.load_channel", i);
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    channels.push_back(
        grpc::CreateCustomChannel(flags.target, grpc::InsecureChannelCredentials(), args));
  }
  return channels;
}

// Everything the calls of one run need; StartCall functions point into it.
struct CallTargets {
  std::vector<std::unique_ptr<v1::Router::Stub>> routers;
  std::vector<std::unique_ptr<v1::Shard::Stub>> shards;
  std::vector<std::unique_ptr<v1::Answer::Stub>> answers;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health;
  VectorSet queries;
  VectorSet documents;
};

template <typename Stub>
Stub& Pick(std::vector<std::unique_ptr<Stub>>& stubs, uint64_t sequence) {
  return *stubs[sequence % stubs.size()];
}

StartCall RouterSearch(const Flags& flags, CallTargets& targets) {
  return [&flags, &targets](uint64_t sequence, CallDone done) {
    auto call = NewCall<v1::RouterSearchRequest, v1::RouterSearchResponse>(flags);
    if (flags.text.empty()) {
      const float* query = targets.queries.row(sequence % targets.queries.count);
      call->request.mutable_vector()->Assign(query, query + flags.dimension);
    } else {
      call->request.set_text(flags.text);
    }
    call->request.set_k(flags.k);
    call->request.mutable_principal()->set_tenant(flags.tenant);
    auto* raw = call.get();
    Pick(targets.routers, sequence)
        .async()
        ->Search(&raw->context, &raw->request, &raw->response,
                 [call, done = std::move(done)](grpc::Status status) { done(status); });
  };
}

StartCall ShardSearch(const Flags& flags, CallTargets& targets) {
  return [&flags, &targets](uint64_t sequence, CallDone done) {
    auto call = NewCall<v1::SearchRequest, v1::SearchResponse>(flags);
    const float* query = targets.queries.row(sequence % targets.queries.count);
    call->request.mutable_vector()->Assign(query, query + flags.dimension);
    call->request.set_k(flags.k);
    call->request.mutable_principal()->set_tenant(flags.tenant);
    auto* raw = call.get();
    Pick(targets.shards, sequence)
        .async()
        ->Search(&raw->context, &raw->request, &raw->response,
                 [call, done = std::move(done)](grpc::Status status) { done(status); });
  };
}

// Each request upserts `documents_per_request` new one-chunk documents, named by the request's
// sequence number, with vectors cycled from a pool.
StartCall RouterIngest(const Flags& flags, CallTargets& targets) {
  return [&flags, &targets](uint64_t sequence, CallDone done) {
    auto call = NewCall<v1::IngestRequest, v1::IngestResponse>(flags);
    for (int i = 0; i < flags.documents_per_request; ++i) {
      const uint64_t number = sequence * flags.documents_per_request + i;
      v1::DocumentChunks* document = call->request.add_documents();
      document->mutable_document()->set_tenant(flags.tenant);
      document->mutable_document()->set_id(absl::StrCat("load-", flags.seed, "-", number));
      const float* vector = targets.documents.row(number % targets.documents.count);
      document->add_chunks()->mutable_vector()->Assign(vector, vector + flags.dimension);
    }
    auto* raw = call.get();
    Pick(targets.routers, sequence)
        .async()
        ->Ingest(&raw->context, &raw->request, &raw->response,
                 [call, done = std::move(done)](grpc::Status status) { done(status); });
  };
}

StartCall Ask(const Flags& flags, CallTargets& targets) {
  return [&flags, &targets](uint64_t sequence, CallDone done) {
    v1::AskRequest request;
    request.set_question(flags.question);
    request.set_k(flags.k);
    request.mutable_principal()->set_tenant(flags.tenant);
    AskReader::Start(Pick(targets.answers, sequence), request, flags, std::move(done));
  };
}

StartCall Echo(const Flags& flags, CallTargets& targets) {
  return [&flags, &targets](uint64_t sequence, CallDone done) {
    auto call =
        NewCall<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>(flags);
    auto* raw = call.get();
    Pick(targets.health, sequence)
        .async()
        ->Check(&raw->context, &raw->request, &raw->response,
                [call, done = std::move(done)](grpc::Status status) { done(status); });
  };
}

absl::StatusOr<StartCall> CallFor(const Flags& flags, CallTargets& targets) {
  const std::vector<std::shared_ptr<grpc::Channel>> channels = OpenChannels(flags);
  for (const auto& channel : channels) {
    targets.routers.push_back(v1::Router::NewStub(channel));
    targets.shards.push_back(v1::Shard::NewStub(channel));
    targets.answers.push_back(v1::Answer::NewStub(channel));
    targets.health.push_back(grpc::health::v1::Health::NewStub(channel));
  }
  const ClusteredVectorGenerator generator(flags.dimension, kClusters, flags.seed);
  if (flags.call == "search") {
    targets.queries = generator.Draw(1000, kQueryStream, kSpread);
    return RouterSearch(flags, targets);
  }
  if (flags.call == "shard-search") {
    targets.queries = generator.Draw(1000, kQueryStream, kSpread);
    return ShardSearch(flags, targets);
  }
  if (flags.call == "ingest") {
    targets.documents = generator.Draw(flags.vector_pool, kDocumentStream, kSpread);
    return RouterIngest(flags, targets);
  }
  if (flags.call == "ask") return Ask(flags, targets);
  if (flags.call == "echo") return Echo(flags, targets);
  return absl::InvalidArgumentError(absl::StrCat("unknown --call ", flags.call));
}

absl::StatusOr<LoadOptions> OptionsFor(const Flags& flags) {
  LoadOptions options;
  if (flags.mode == "closed") {
    options.mode = LoadMode::kClosedLoop;
  } else if (flags.mode == "open") {
    options.mode = LoadMode::kOpenLoop;
  } else {
    return absl::InvalidArgumentError("--mode is closed or open");
  }
  if (flags.arrivals == "poisson") {
    options.arrivals = ArrivalProcess::kPoisson;
  } else if (flags.arrivals == "fixed") {
    options.arrivals = ArrivalProcess::kFixedInterval;
  } else {
    return absl::InvalidArgumentError("--arrivals is poisson or fixed");
  }
  options.concurrency = flags.concurrency;
  options.rate = flags.rate;
  options.max_in_flight = flags.max_in_flight;
  options.warmup = std::chrono::duration<double>(flags.warmup);
  options.duration = std::chrono::duration<double>(flags.duration);
  options.seed = flags.seed;
  options.max_calls = flags.requests;
  return options;
}

double Milliseconds(std::chrono::nanoseconds value) { return value.count() / 1e6; }

std::string FailuresJson(const LoadResult& result) {
  std::vector<std::string> parts;
  for (const auto& [code, count] : result.failures_by_code) {
    parts.push_back(absl::StrFormat("\"%s\":%d", StatusCodeName(code), count));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string Json(const Flags& flags, const LoadResult& result) {
  const LatencyHistogram& latency = result.latency;
  return absl::StrFormat(
      "{\"call\":\"%s\",\"target\":\"%s\",\"mode\":\"%s\",\"concurrency\":%d,"
      "\"intended_rate\":%.3f,\"seconds\":%.3f,\"succeeded\":%d,\"failed\":%d,"
      "\"failures\":%s,\"achieved_rate\":%.3f,\"latency_ms\":{\"p50\":%.4f,\"p90\":%.4f,"
      "\"p99\":%.4f,\"p99.9\":%.4f,\"max\":%.4f,\"mean\":%.4f,\"min\":%.4f}}\n",
      flags.call, flags.target, flags.mode, flags.mode == "closed" ? flags.concurrency : 0,
      result.intended_rate, result.seconds, result.succeeded, result.failed, FailuresJson(result),
      result.achieved_rate, Milliseconds(latency.Percentile(0.5)),
      Milliseconds(latency.Percentile(0.9)), Milliseconds(latency.Percentile(0.99)),
      Milliseconds(latency.Percentile(0.999)), Milliseconds(latency.max()),
      Milliseconds(latency.mean()), Milliseconds(latency.min()));
}

std::string Text(const Flags& flags, const LoadResult& result) {
  const LatencyHistogram& latency = result.latency;
  const std::string shape =
      flags.mode == "closed"
          ? absl::StrFormat("closed loop, %d callers", flags.concurrency)
          : absl::StrFormat("open loop, %s arrivals at %.1f/s", flags.arrivals, flags.rate);
  std::string failures;
  for (const auto& [code, count] : result.failures_by_code) {
    absl::StrAppend(&failures, "  ", StatusCodeName(code), ": ", count, "\n");
  }
  return absl::StrCat(
      absl::StrFormat("%s to %s, %s, %.0f s measured after %.0f s warm-up\n", flags.call,
                      flags.target, shape, result.seconds, flags.warmup),
      absl::StrFormat("requests  %d ok, %d failed; %.1f/s achieved\n", result.succeeded,
                      result.failed, result.achieved_rate),
      absl::StrFormat("latency   p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  "
                      "max %.3f ms  mean %.3f ms\n",
                      Milliseconds(latency.Percentile(0.5)), Milliseconds(latency.Percentile(0.9)),
                      Milliseconds(latency.Percentile(0.99)),
                      Milliseconds(latency.Percentile(0.999)), Milliseconds(latency.max()),
                      Milliseconds(latency.mean())),
      failures);
}

int Run(const Flags& flags) {
  absl::StatusOr<LoadOptions> options = OptionsFor(flags);
  CallTargets targets;
  absl::StatusOr<StartCall> start_call =
      options.ok() ? CallFor(flags, targets) : absl::StatusOr<StartCall>(options.status());
  if (!start_call.ok()) {
    std::fprintf(stderr, "quarry_load: %s\n", std::string(start_call.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<LoadResult> result = RunLoad(*options, *start_call);
  if (!result.ok()) {
    std::fprintf(stderr, "quarry_load: %s\n", std::string(result.status().message()).c_str());
    return 2;
  }
  std::cout << (flags.json ? Json(flags, *result) : Text(flags, *result));
  return result->succeeded > 0 ? 0 : 1;
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) {
  quarry::bench::Flags flags;
  CLI::App app{"Sends a closed- or open-loop gRPC load to a Quarry service and reports latency"};
  app.add_option("--target", flags.target, "host:port of the service")->capture_default_str();
  app.add_option("--call", flags.call,
                 "search (router), shard-search, ingest (router), ask (answer) or echo "
                 "(gRPC health check)")
      ->capture_default_str();
  app.add_option("--mode", flags.mode, "closed (N callers) or open (fixed arrival rate)")
      ->capture_default_str();
  app.add_option("--concurrency", flags.concurrency, "Closed loop: concurrent callers")
      ->capture_default_str();
  app.add_option("--rate", flags.rate, "Open loop: requests per second")->capture_default_str();
  app.add_option("--arrivals", flags.arrivals, "Open loop: poisson or fixed intervals")
      ->capture_default_str();
  app.add_option("--max-in-flight", flags.max_in_flight,
                 "Open loop: calls outstanding before the sender waits")
      ->capture_default_str();
  app.add_option("--warmup", flags.warmup, "Seconds sent but not measured")->capture_default_str();
  app.add_option("--duration", flags.duration, "Seconds measured")->capture_default_str();
  app.add_option("--requests", flags.requests,
                 "Send at most this many requests, warm-up included; 0: no limit")
      ->capture_default_str();
  app.add_option("--channels", flags.channels, "gRPC connections the calls are spread over")
      ->capture_default_str();
  app.add_option("--deadline", flags.deadline, "Seconds each call may take")->capture_default_str();
  app.add_option("--tenant", flags.tenant, "Tenant of the requests")->capture_default_str();
  app.add_option("--k", flags.k, "Hits per search, passages per question")->capture_default_str();
  app.add_option("--dim", flags.dimension, "Vector dimension")->capture_default_str();
  app.add_option("--text", flags.text, "search: query text for the router to embed");
  app.add_option("--question", flags.question, "ask: the question")->capture_default_str();
  app.add_option("--docs-per-request", flags.documents_per_request,
                 "ingest: one-chunk documents per request")
      ->capture_default_str();
  app.add_option("--seed", flags.seed, "Seed of the vectors and arrivals")->capture_default_str();
  app.add_flag("--json", flags.json, "Print one JSON object instead of text");
  CLI11_PARSE(app, argc, argv);
  return quarry::bench::Run(flags);
}
