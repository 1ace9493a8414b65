#include "services/answer/chat_completion_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/runtime/log.h"

namespace quarry::answer {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr size_t kMaxIdleHandles = 8;
constexpr size_t kMaxServerMessageBytes = 300;

// curl_global_init is not thread-safe and must run before any other curl call.
absl::Status InitCurlOnce() {
  static std::once_flag once;
  static CURLcode code = CURLE_OK;
  std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (code != CURLE_OK) {
    return absl::InternalError(absl::StrCat("curl_global_init: ", curl_easy_strerror(code)));
  }
  return absl::OkStatus();
}

// At most `limit` bytes of `text` on one line, cut on a UTF-8 character boundary.
std::string OneLine(absl::string_view text, size_t limit = kMaxServerMessageBytes) {
  std::string line(absl::StripAsciiWhitespace(text));
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  if (line.size() <= limit) return line;
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  line.resize(cut);
  return line + "...";
}

// The message of an error body: {"error":{"message":...}}, {"error":"..."}, {"message":...},
// {"detail":...}, or else the body itself.
std::string ServerMessage(const std::string& body) {
  const Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    const auto error = json.find("error");
    if (error != json.end()) {
      if (error->is_string()) return OneLine(error->get<std::string>());
      if (error->is_object()) {
        const auto message = error->find("message");
        if (message != error->end() && message->is_string()) {
          return OneLine(message->get<std::string>());
        }
      }
    }
    for (const char* key : {"message", "detail"}) {
      const auto message = json.find(key);
      if (message != json.end() && message->is_string()) {
        return OneLine(message->get<std::string>());
      }
    }
  }
  return OneLine(body);
}

}  // namespace

class ChatCompletionClient::Handle {
 public:
  Handle() : curl_(curl_easy_init()) {}
  ~Handle() {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  CURL* get() const { return curl_; }

 private:
  CURL* const curl_;
};

// Reads the body of one response: server-sent events when the status is 200, an error body
// otherwise. Lives on the stack of Stream; curl calls it back from curl_easy_perform.
class ChatCompletionClient::EventStream {
 public:
  EventStream(CURL* curl, const std::string& endpoint, size_t max_line_bytes,
              const DeltaCallback& on_delta, const CancelledCallback& cancelled)
      : curl_(curl),
        endpoint_(endpoint),
        max_line_bytes_(max_line_bytes),
        on_delta_(on_delta),
        cancelled_(cancelled) {}

  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* stream = static_cast<EventStream*>(user);
    return stream->Consume(absl::string_view(data, size * count)) ? size * count : 0;
  }

  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* stream = static_cast<EventStream*>(user);
    if (stream->cancelled_ && stream->cancelled_()) {
      stream->caller_cancelled_ = true;
      return 1;  // makes curl abort with CURLE_ABORTED_BY_CALLBACK
    }
    return 0;
  }

  // Dispatches an event left without its closing blank line when the body ended.
  void FinishBody() {
    if (!buffer_.empty()) Line(buffer_);
    buffer_.clear();
    if (!data_.empty()) Dispatch();
  }

  // The status of a response with no body, which Consume never saw.
  void ReadStatus() {
    if (http_status_ == 0) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &http_status_);
  }

  long http_status() const { return http_status_; }
  const std::string& error_body() const { return error_body_; }
  bool done() const { return done_; }
  bool caller_cancelled() const { return caller_cancelled_; }
  bool caller_stopped() const { return caller_stopped_; }
  const absl::Status& failure() const { return failure_; }
  const std::string& finish_reason() const { return finish_reason_; }

 private:
  // False stops the transfer.
  bool Consume(absl::string_view bytes) {
    if (http_status_ == 0) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &http_status_);
    if (http_status_ != 200) {
      const size_t room = max_line_bytes_ - std::min(max_line_bytes_, error_body_.size());
      const absl::string_view kept = bytes.substr(0, room);
      error_body_.append(kept.data(), kept.size());
      return true;
    }
    buffer_.append(bytes.data(), bytes.size());
    size_t start = 0;
    for (size_t newline; (newline = buffer_.find('\n', start)) != std::string::npos;
         start = newline + 1) {
      absl::string_view line(buffer_.data() + start, newline - start);
      if (!Line(line)) return false;
    }
    buffer_.erase(0, start);
    if (buffer_.size() > max_line_bytes_) {
      failure_ = absl::FailedPreconditionError(absl::StrCat(
          "chat endpoint ", endpoint_, " sent an event line over ", max_line_bytes_, " bytes"));
      return false;
    }
    return true;
  }

  // One line of the event stream; a blank line ends an event.
  bool Line(absl::string_view line) {
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    if (line.empty()) return data_.empty() || Dispatch();
    if (line.front() == ':') return true;                   // a comment, e.g. a keep-alive
    if (!absl::ConsumePrefix(&line, "data:")) return true;  // event:, id:, retry:
    absl::ConsumePrefix(&line, " ");
    if (!data_.empty()) data_ += '\n';
    data_.append(line.data(), line.size());
    return true;
  }

  bool Dispatch() {
    const std::string data = std::move(data_);
    data_.clear();
    if (done_) return true;
    if (absl::StripAsciiWhitespace(data) == "[DONE]") {
      done_ = true;
      return true;
    }
    const Json chunk = Json::parse(data, nullptr, /*allow_exceptions=*/false);
    if (!chunk.is_object()) {
      failure_ = absl::FailedPreconditionError(
          absl::StrCat("chat endpoint ", endpoint_,
                       " sent an event that is not a JSON object: ", OneLine(data)));
      return false;
    }
    if (const auto error = chunk.find("error"); error != chunk.end()) {
      failure_ = absl::UnavailableError(absl::StrCat(
          "chat endpoint ", endpoint_, " failed mid-answer: ", ServerMessage(chunk.dump())));
      return false;
    }
    const auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array() || choices->empty() ||
        !(*choices)[0].is_object()) {
      return true;  // e.g. a final usage chunk
    }
    const Json& choice = (*choices)[0];
    if (const auto reason = choice.find("finish_reason");
        reason != choice.end() && reason->is_string()) {
      finish_reason_ = reason->get<std::string>();
    }
    const auto delta = choice.find("delta");
    if (delta == choice.end() || !delta->is_object()) return true;
    const auto content = delta->find("content");
    if (content == delta->end() || !content->is_string()) return true;
    const std::string& text = content->get_ref<const std::string&>();
    if (text.empty() || on_delta_(text)) return true;
    caller_stopped_ = true;
    return false;
  }

  CURL* const curl_;
  const std::string& endpoint_;
  const size_t max_line_bytes_;
  const DeltaCallback& on_delta_;
  const CancelledCallback& cancelled_;

  long http_status_ = 0;
  std::string error_body_;
  std::string buffer_;  // bytes after the last complete line
  std::string data_;    // the data lines of the event being read
  bool done_ = false;
  bool caller_cancelled_ = false;
  bool caller_stopped_ = false;
  absl::Status failure_;
  std::string finish_reason_;
};

absl::StatusOr<std::unique_ptr<ChatCompletionClient>> ChatCompletionClient::Create(
    Options options) {
  while (absl::EndsWith(options.base_url, "/")) options.base_url.pop_back();
  auto invalid = [](absl::string_view option, absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat("chat client option ", option, " ", problem));
  };
  if (!absl::StartsWithIgnoreCase(options.base_url, "http://") &&
      !absl::StartsWithIgnoreCase(options.base_url, "https://")) {
    return invalid("base_url", absl::StrCat("must start with http:// or https:// (it is '",
                                            options.base_url, "')"));
  }
  if (options.timeout <= milliseconds(0)) return invalid("timeout", "must be positive");
  if (options.connect_timeout <= milliseconds(0)) {
    return invalid("connect_timeout", "must be positive");
  }
  if (options.idle_timeout < std::chrono::seconds(1)) {
    return invalid("idle_timeout", "must be at least one second");
  }
  if (options.max_line_bytes < 1024) return invalid("max_line_bytes", "must be at least 1024");
  if (absl::Status status = InitCurlOnce(); !status.ok()) return status;
  return std::unique_ptr<ChatCompletionClient>(new ChatCompletionClient(std::move(options)));
}

ChatCompletionClient::ChatCompletionClient(Options options)
    : options_(std::move(options)),
      endpoint_(options_.base_url + "/chat/completions"),
      authorization_(options_.api_key.empty()
                         ? std::string()
                         : absl::StrCat("Authorization: Bearer ", options_.api_key)) {}

ChatCompletionClient::~ChatCompletionClient() = default;

std::unique_ptr<ChatCompletionClient::Handle> ChatCompletionClient::TakeHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Handle> handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  return std::make_unique<Handle>();
}

void ChatCompletionClient::ReturnHandle(std::unique_ptr<Handle> handle) {
  absl::MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(handle));
}

absl::StatusOr<ChatCompletionClient::Result> ChatCompletionClient::Stream(
    const Request& request, const DeltaCallback& on_delta, const CancelledCallback& cancelled) {
  // The nearer of the client's own limit and the caller's deadline bounds the whole answer.
  const auto now = std::chrono::system_clock::now();
  if (request.deadline <= now) {
    return absl::DeadlineExceededError("the deadline passed before the chat request was sent");
  }
  const auto until_deadline = std::chrono::duration_cast<milliseconds>(request.deadline - now);
  const bool deadline_binds = until_deadline < options_.timeout;
  const milliseconds timeout =
      std::max(milliseconds(1), std::min(until_deadline, options_.timeout));

  Json body = {{"model", request.model}, {"stream", true}, {"messages", Json::array()}};
  for (const ChatMessage& message : request.messages) {
    body["messages"].push_back({{"role", message.role}, {"content", message.content}});
  }
  if (request.max_tokens > 0) body["max_tokens"] = request.max_tokens;
  // Bytes that are not UTF-8 become U+FFFD instead of an exception.
  const std::string payload = body.dump(-1, ' ', false, Json::error_handler_t::replace);

  std::unique_ptr<Handle> handle = TakeHandle();
  if (handle->get() == nullptr) return absl::InternalError("curl_easy_init failed");
  absl::Cleanup give_back = [&] { ReturnHandle(std::move(handle)); };
  CURL* curl = handle->get();
  // Reset keeps the handle's open connections.
  curl_easy_reset(curl);

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: text/event-stream");
  headers = curl_slist_append(headers, "Expect:");
  if (!authorization_.empty()) headers = curl_slist_append(headers, authorization_.c_str());
  absl::Cleanup free_headers = [headers] { curl_slist_free_all(headers); };

  EventStream stream(curl, endpoint_, options_.max_line_bytes, on_delta, cancelled);
  const std::string user_agent = absl::StrCat("quarry/", runtime::Version());
  char error[CURL_ERROR_SIZE] = {};
  const long idle_seconds = static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(options_.idle_timeout).count());
  curl_easy_setopt(curl, CURLOPT_URL, endpoint_.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, idle_seconds);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &EventStream::OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &stream);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &EventStream::OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stream);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);

  const CURLcode transport = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  if (transport == CURLE_OK) {
    stream.ReadStatus();
    stream.FinishBody();
  }

  const std::string cause = error[0] != '\0' ? std::string(error) : curl_easy_strerror(transport);
  if (stream.caller_cancelled() || stream.caller_stopped()) {
    return absl::CancelledError("the caller went away; the chat request was abandoned");
  }
  if (!stream.failure().ok()) return stream.failure();
  if (transport == CURLE_OPERATION_TIMEDOUT) {
    if (deadline_binds) {
      return absl::DeadlineExceededError(
          absl::StrCat("the deadline passed while chat endpoint ", endpoint_, " answered"));
    }
    return absl::UnavailableError(absl::StrCat("chat endpoint ", endpoint_, " timed out: ", cause));
  }
  if (transport != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("chat endpoint ", endpoint_, " unreachable: ", cause));
  }

  const long code = stream.http_status();
  if (code != 200) {
    const std::string said = absl::StrCat("chat endpoint ", endpoint_, " answered HTTP ", code,
                                          ": ", ServerMessage(stream.error_body()));
    if (code == 429) return absl::ResourceExhaustedError(said);
    if (code >= 500 || code == 408) return absl::UnavailableError(said);
    if (code == 401) {
      return absl::UnauthenticatedError(
          absl::StrCat(said, options_.api_key.empty() ? " (no API key is set)" : ""));
    }
    if (code == 403) return absl::PermissionDeniedError(said);
    if (code == 404) {
      return absl::FailedPreconditionError(absl::StrCat(
          said, " (is the model '", request.model, "' served there, and the base URL right?)"));
    }
    if (code >= 400) return absl::InvalidArgumentError(said);
    return absl::FailedPreconditionError(said);  // redirects are not followed
  }
  if (!stream.done() && stream.finish_reason().empty()) {
    return absl::UnavailableError(
        absl::StrCat("chat endpoint ", endpoint_, " closed the stream before it finished"));
  }
  return Result{stream.finish_reason()};
}

}  // namespace quarry::answer
