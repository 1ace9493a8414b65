// What the router puts on a gRPC completion queue: every tag is a CompletionTag, so one loop can
// serve searches, their shard calls, their timers and replicated writes on the same queue.
//
// The router answers searches on a few event-loop threads, each draining its own queue, rather
// than on gRPC's synchronous threads or its callback API: a request, its shard calls and its
// answer are then all handled by the thread that polls for them, with no hand-off between
// threads on the way (see docs/router.md).
#ifndef QUARRY_ROUTER_COMPLETION_TAG_H_
#define QUARRY_ROUTER_COMPLETION_TAG_H_

#include <grpcpp/grpcpp.h>

namespace quarry::router {

class CompletionTag {
 public:
  virtual ~CompletionTag() = default;

  // The operation the tag was given to has finished; `ok` as gRPC reports it.
  virtual void OnComplete(bool ok) = 0;
};

// Hands every event of `queue` to its tag until the queue is shut down and drained.
inline void RunCompletionLoop(grpc::CompletionQueue& queue) {
  void* tag;
  bool ok;
  while (queue.Next(&tag, &ok)) static_cast<CompletionTag*>(tag)->OnComplete(ok);
}

}  // namespace quarry::router

#endif  // QUARRY_ROUTER_COMPLETION_TAG_H_
