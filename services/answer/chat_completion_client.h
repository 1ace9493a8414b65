// A streaming client of an OpenAI-compatible `POST {base_url}/chat/completions` endpoint:
// OpenAI itself, or a local server such as vLLM, Ollama or the llama.cpp server.
//
// Each request asks for `stream: true`; the answer arrives as server-sent events, one JSON
// chunk per `data:` line, until `data: [DONE]`. The text of every chunk's
// choices[0].delta.content is handed to the caller as it arrives. A request ends early, and
// its connection is closed, when the caller's `cancelled` says so or its `on_delta` returns
// false.
//
// Errors name the endpoint and the cause:
//   UNAVAILABLE          the endpoint could not be reached, timed out, answered 5xx, or closed
//                        the stream before [DONE];
//   RESOURCE_EXHAUSTED   429 (rate limited or out of quota);
//   UNAUTHENTICATED      401, the API key is missing or wrong;
//   PERMISSION_DENIED    403;
//   FAILED_PRECONDITION  404 (no such model or path) or a stream that is not the expected JSON;
//   INVALID_ARGUMENT     any other 4xx, e.g. a prompt longer than the model's window;
//   DEADLINE_EXCEEDED    the caller's deadline passed;
//   CANCELLED            the caller went away.
// Nothing is retried: a partly streamed answer cannot be taken back from the caller.
//
// Thread-safe: concurrent calls each use their own curl handle; idle handles are kept, with
// their open connections, for later calls.
#ifndef QUARRY_SERVICES_ANSWER_CHAT_COMPLETION_CLIENT_H_
#define QUARRY_SERVICES_ANSWER_CHAT_COMPLETION_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "services/answer/chat_format.h"

namespace quarry::answer {

class ChatCompletionClient {
 public:
  struct Options {
    // Up to and including the API version, e.g. "http://127.0.0.1:8000/v1"; requests go to
    // base_url + "/chat/completions".
    std::string base_url;
    // Sent as "Authorization: Bearer <api_key>" when not empty; never logged.
    std::string api_key;
    std::chrono::milliseconds connect_timeout{5000};
    // Longest a whole answer may stream, unless the caller's deadline is sooner.
    std::chrono::milliseconds timeout{120000};
    // An answer that sends nothing for this long is abandoned as stalled.
    std::chrono::milliseconds idle_timeout{30000};
    // An error body longer than this is cut; a single event line longer than this is refused.
    size_t max_line_bytes = 1 << 20;
  };

  struct Request {
    std::string model;
    absl::Span<const ChatMessage> messages;
    // Sent as max_tokens when positive.
    uint32_t max_tokens = 0;
    std::chrono::system_clock::time_point deadline = std::chrono::system_clock::time_point::max();
  };

  struct Result {
    std::string finish_reason;  // as the model gave it; empty when it gave none
  };

  // Called with each piece of answer text; returning false stops the request.
  using DeltaCallback = std::function<bool(absl::string_view text)>;
  // Polled while the request runs; true stops it with CANCELLED.
  using CancelledCallback = std::function<bool()>;

  // INVALID_ARGUMENT naming the first bad option.
  static absl::StatusOr<std::unique_ptr<ChatCompletionClient>> Create(Options options);

  ~ChatCompletionClient();
  ChatCompletionClient(const ChatCompletionClient&) = delete;
  ChatCompletionClient& operator=(const ChatCompletionClient&) = delete;

  // Streams one answer into `on_delta`; blocks until it ends.
  absl::StatusOr<Result> Stream(const Request& request, const DeltaCallback& on_delta,
                                const CancelledCallback& cancelled);

  // base_url + "/chat/completions".
  const std::string& endpoint() const { return endpoint_; }

 private:
  class Handle;
  class EventStream;

  explicit ChatCompletionClient(Options options);

  std::unique_ptr<Handle> TakeHandle();
  void ReturnHandle(std::unique_ptr<Handle> handle);

  const Options options_;
  const std::string endpoint_;
  const std::string authorization_;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::answer

#endif  // QUARRY_SERVICES_ANSWER_CHAT_COMPLETION_CLIENT_H_
