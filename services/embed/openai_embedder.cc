#include "services/embed/openai_embedder.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/runtime/log.h"

namespace quarry::embed {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

// Handles kept for reuse with their open connections; more concurrent calls than this still
// work, their extra handles are just closed afterwards.
constexpr size_t kMaxIdleHandles = 8;
constexpr size_t kMaxServerMessageBytes = 200;
constexpr int kMaxBatchSize = 2048;
constexpr double kNotAFloat = std::numeric_limits<double>::infinity();

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
std::string Truncate(absl::string_view text, size_t limit) {
  std::string line(absl::StripAsciiWhitespace(text));
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  if (line.size() <= limit) return line;
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  line.resize(cut);
  return line + "...";
}

// What the server said went wrong, from the error shapes of the common servers:
// {"error":{"message":...}} (OpenAI, vLLM), {"error":"..."} (Ollama, text-embeddings-inference),
// {"message":...} and {"detail":...} (FastAPI-based servers); otherwise the start of the body.
std::string ServerMessage(const std::string& body) {
  const Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    const auto error = json.find("error");
    if (error != json.end()) {
      if (error->is_string()) return Truncate(error->get<std::string>(), kMaxServerMessageBytes);
      if (error->is_object()) {
        const auto message = error->find("message");
        if (message != error->end() && message->is_string()) {
          return Truncate(message->get<std::string>(), kMaxServerMessageBytes);
        }
      }
    }
    for (const char* key : {"message", "detail"}) {
      const auto message = json.find(key);
      if (message != json.end() && message->is_string()) {
        return Truncate(message->get<std::string>(), kMaxServerMessageBytes);
      }
    }
  }
  return Truncate(body, kMaxServerMessageBytes);
}

// Retry-After is either delay-seconds or an HTTP date.
std::optional<milliseconds> ParseRetryAfter(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return milliseconds(std::min<int64_t>(seconds, int64_t{1} << 31) * 1000);
  }
  const time_t when = curl_getdate(std::string(value).c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return milliseconds(std::max<int64_t>(0, (when - std::time(nullptr))) * 1000);
}

struct ResponseSink {
  std::string* body;
  int64_t limit;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<ResponseSink*>(user);
  const size_t bytes = size * count;
  if (static_cast<int64_t>(sink->body->size() + bytes) > sink->limit) {
    sink->too_large = true;
    return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, bytes);
  return bytes;
}

size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  auto* retry_after = static_cast<std::optional<milliseconds>*>(user);
  const absl::string_view line(data, size * count);
  // Each response of the exchange (an interim 100 Continue, say) starts with a status line.
  if (absl::StartsWith(line, "HTTP/")) retry_after->reset();
  constexpr absl::string_view kName = "retry-after:";
  if (line.size() > kName.size() && absl::StartsWithIgnoreCase(line, kName)) {
    *retry_after = ParseRetryAfter(line.substr(kName.size()));
  }
  return size * count;
}

}  // namespace

class OpenAiEmbedder::Handle {
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

struct OpenAiEmbedder::HttpResult {
  CURLcode transport = CURLE_OK;
  std::string transport_detail;  // curl's error buffer, more specific than its error code
  bool too_large = false;
  long http_status = 0;
  std::string body;
  std::optional<milliseconds> retry_after;
};

// Why one attempt failed, and whether another attempt may succeed.
struct OpenAiEmbedder::Failure {
  static Failure Final(absl::Status status) { return {std::move(status), false, std::nullopt}; }
  static Failure Transient(absl::Status status,
                           std::optional<milliseconds> retry_after = std::nullopt) {
    return {std::move(status), true, retry_after};
  }

  absl::Status status;
  bool retryable;
  std::optional<milliseconds> retry_after;  // as the server asked, not yet capped
};

absl::StatusOr<std::unique_ptr<OpenAiEmbedder>> OpenAiEmbedder::Create(Options options) {
  while (absl::EndsWith(options.base_url, "/")) options.base_url.pop_back();
  auto invalid = [](absl::string_view option, absl::string_view problem) {
    return absl::InvalidArgumentError(
        absl::StrCat("openai embedder option ", option, " ", problem));
  };
  if (!absl::StartsWithIgnoreCase(options.base_url, "http://") &&
      !absl::StartsWithIgnoreCase(options.base_url, "https://")) {
    return invalid("base_url", absl::StrCat("must start with http:// or https:// (it is '",
                                            options.base_url, "')"));
  }
  if (options.model.empty()) return invalid("model", "must not be empty");
  if (options.dimension <= 0) {
    return invalid("dimension", absl::StrCat("must be positive (it is ", options.dimension, ")"));
  }
  if (options.batch_size < 1 || options.batch_size > kMaxBatchSize) {
    return invalid("batch_size", absl::StrCat("must be in 1..", kMaxBatchSize, " (it is ",
                                              options.batch_size, ")"));
  }
  if (options.timeout <= milliseconds(0)) return invalid("timeout", "must be positive");
  if (options.connect_timeout <= milliseconds(0)) {
    return invalid("connect_timeout", "must be positive");
  }
  if (options.max_retries < 0) return invalid("max_retries", "must not be negative");
  if (options.initial_backoff < milliseconds(0) || options.max_backoff < milliseconds(0) ||
      options.max_retry_after < milliseconds(0)) {
    return invalid("initial_backoff, max_backoff and max_retry_after", "must not be negative");
  }
  if (options.max_response_bytes <= 0) return invalid("max_response_bytes", "must be positive");

  if (absl::Status status = InitCurlOnce(); !status.ok()) return status;
  return std::unique_ptr<OpenAiEmbedder>(new OpenAiEmbedder(std::move(options)));
}

OpenAiEmbedder::OpenAiEmbedder(Options options)
    : options_(std::move(options)),
      endpoint_(options_.base_url + "/embeddings"),
      authorization_(options_.api_key.empty()
                         ? std::string()
                         : absl::StrCat("Authorization: Bearer ", options_.api_key)) {}

OpenAiEmbedder::~OpenAiEmbedder() = default;

std::unique_ptr<OpenAiEmbedder::Handle> OpenAiEmbedder::TakeHandle() {
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

void OpenAiEmbedder::ReturnHandle(std::unique_ptr<Handle> handle) {
  absl::MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(handle));
}

absl::StatusOr<std::vector<std::vector<float>>> OpenAiEmbedder::Embed(
    const std::vector<std::string>& texts) {
  std::vector<std::vector<float>> vectors;
  if (texts.empty()) return vectors;

  std::unique_ptr<Handle> handle = TakeHandle();
  if (handle->get() == nullptr) return absl::InternalError("curl_easy_init failed");
  absl::Cleanup give_back = [&] { ReturnHandle(std::move(handle)); };

  vectors.reserve(texts.size());
  for (size_t begin = 0; begin < texts.size(); begin += options_.batch_size) {
    const size_t end = std::min(texts.size(), begin + options_.batch_size);
    absl::StatusOr<std::vector<std::vector<float>>> batch = EmbedBatch(*handle, texts, begin, end);
    if (!batch.ok()) return batch.status();
    for (std::vector<float>& vector : *batch) vectors.push_back(std::move(vector));
  }
  return vectors;
}

absl::StatusOr<std::vector<std::vector<float>>> OpenAiEmbedder::EmbedBatch(
    Handle& handle, const std::vector<std::string>& texts, size_t begin, size_t end) {
  Json request = {{"model", options_.model}, {"input", Json::array()}};
  Json& input = request["input"];
  for (size_t i = begin; i < end; ++i) input.push_back(texts[i]);
  // Bytes that are not UTF-8 become U+FFFD instead of an exception.
  const std::string body = request.dump(-1, ' ', false, Json::error_handler_t::replace);

  absl::BitGen random;
  const int attempts = options_.max_retries + 1;
  for (int attempt = 1;; ++attempt) {
    HttpResult result = Post(handle, body);
    if (result.transport == CURLE_OK && result.http_status >= 200 && result.http_status < 300) {
      return ParseResponse(result.body, end - begin);
    }

    const Failure failure = Classify(result);
    if (!failure.retryable || attempt >= attempts) {
      if (attempt == 1) return failure.status;
      return absl::Status(failure.status.code(),
                          absl::StrCat(failure.status.message(), " (", attempt, " attempts)"));
    }

    milliseconds delay;
    if (failure.retry_after.has_value()) {
      delay = std::min(*failure.retry_after, options_.max_retry_after);
    } else {
      const double doubled = options_.initial_backoff.count() * std::exp2(attempt - 1);
      const double capped = std::min(doubled, static_cast<double>(options_.max_backoff.count()));
      delay = milliseconds(static_cast<int64_t>(capped * absl::Uniform(random, 0.5, 1.0)));
    }
    runtime::Logger("embed")->warn("{}; retry {} of {} in {}ms", failure.status.message(), attempt,
                                   options_.max_retries, delay.count());
    std::this_thread::sleep_for(delay);
  }
}

OpenAiEmbedder::Failure OpenAiEmbedder::Classify(const HttpResult& result) const {
  if (result.too_large) {
    return Failure::Final(absl::FailedPreconditionError(
        absl::StrCat("embedding endpoint ", endpoint_, " sent an answer larger than ",
                     options_.max_response_bytes, " bytes")));
  }

  if (result.transport != CURLE_OK) {
    const std::string cause = result.transport_detail.empty() ? curl_easy_strerror(result.transport)
                                                              : result.transport_detail;
    switch (result.transport) {
      case CURLE_OPERATION_TIMEDOUT:
        return Failure::Transient(absl::UnavailableError(
            absl::StrCat("embedding endpoint ", endpoint_, " timed out: ", cause)));
      // Wrong configuration rather than a passing fault: retrying cannot help.
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
        return Failure::Final(absl::FailedPreconditionError(
            absl::StrCat("embedding endpoint ", endpoint_, " cannot be used: ", cause)));
      default:
        return Failure::Transient(absl::UnavailableError(
            absl::StrCat("embedding endpoint ", endpoint_, " unreachable: ", cause)));
    }
  }

  const long code = result.http_status;
  const std::string said = absl::StrCat("embedding endpoint ", endpoint_, " answered HTTP ", code,
                                        ": ", ServerMessage(result.body));
  if (code == 429) {
    return Failure::Transient(absl::ResourceExhaustedError(said), result.retry_after);
  }
  if (code == 503) return Failure::Transient(absl::UnavailableError(said), result.retry_after);
  // llama.cpp's server answers 501 when it was started without embeddings enabled.
  if (code == 501) return Failure::Final(absl::FailedPreconditionError(said));
  if (code >= 500 || code == 408) return Failure::Transient(absl::UnavailableError(said));
  if (code == 401) {
    return Failure::Final(absl::UnauthenticatedError(
        absl::StrCat(said, options_.api_key.empty() ? " (no api_key is set)" : "")));
  }
  if (code == 403) return Failure::Final(absl::PermissionDeniedError(said));
  if (code == 404) {
    return Failure::Final(absl::FailedPreconditionError(absl::StrCat(
        said, " (is the model '", options_.model, "' served there, and base_url right?)")));
  }
  if (code >= 400) return Failure::Final(absl::InvalidArgumentError(said));
  return Failure::Final(absl::FailedPreconditionError(said));  // redirects are not followed
}

OpenAiEmbedder::HttpResult OpenAiEmbedder::Post(Handle& handle, const std::string& body) const {
  HttpResult result;
  CURL* curl = handle.get();
  // Reset keeps the handle's open connections, so consecutive batches skip the handshake.
  curl_easy_reset(curl);

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  // Without this curl waits for "100 Continue" before sending a large body.
  headers = curl_slist_append(headers, "Expect:");
  if (!authorization_.empty()) headers = curl_slist_append(headers, authorization_.c_str());
  absl::Cleanup free_headers = [headers] { curl_slist_free_all(headers); };

  const std::string user_agent = absl::StrCat("quarry/", runtime::Version());
  char error[CURL_ERROR_SIZE] = {};
  ResponseSink sink{&result.body, options_.max_response_bytes};
  curl_easy_setopt(curl, CURLOPT_URL, endpoint_.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  // Signals would reach other threads of the process; timeouts then rely on the threaded
  // resolver that Debian's libcurl is built with.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_response_bytes));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.retry_after);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);

  result.transport = curl_easy_perform(curl);
  // The handle must not keep pointing at this frame's buffer.
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  result.too_large = sink.too_large || result.transport == CURLE_FILESIZE_EXCEEDED;
  result.transport_detail = error;
  if (result.transport == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.http_status);
  }
  return result;
}

absl::StatusOr<std::vector<std::vector<float>>> OpenAiEmbedder::ParseResponse(
    const std::string& body, size_t expected) const {
  auto bad = [&](absl::string_view problem) {
    return absl::FailedPreconditionError(
        absl::StrCat("embedding endpoint ", endpoint_, " returned ", problem));
  };
  try {
    const Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      return bad(absl::StrCat("a body that is not JSON: ", Truncate(body, kMaxServerMessageBytes)));
    }
    const auto data = json.find("data");  // end() when json is not an object
    if (data == json.end() || !data->is_array()) {
      return bad(absl::StrCat("JSON without a \"data\" array: ",
                              Truncate(json.dump(-1, ' ', false, Json::error_handler_t::replace),
                                       kMaxServerMessageBytes)));
    }
    if (data->size() != expected) {
      return bad(absl::StrCat(data->size(), " embeddings for ", expected, " texts"));
    }

    std::vector<std::vector<float>> vectors(expected);
    for (size_t position = 0; position < data->size(); ++position) {
      const Json& item = (*data)[position];
      if (!item.is_object()) return bad(absl::StrCat("data[", position, "] that is not an object"));

      size_t index = position;
      const auto given = item.find("index");
      if (given != item.end()) {
        if (!given->is_number_integer() || given->get<int64_t>() < 0 ||
            given->get<uint64_t>() >= expected) {
          return bad(absl::StrCat("data[", position, "].index ", given->dump(), " for ", expected,
                                  " texts"));
        }
        index = given->get<size_t>();
      }
      if (!vectors[index].empty()) return bad(absl::StrCat("index ", index, " twice"));

      const auto embedding = item.find("embedding");
      if (embedding == item.end() || !embedding->is_array()) {
        return bad(absl::StrCat("data[", position, "] without an \"embedding\" array"));
      }
      if (embedding->size() != static_cast<size_t>(options_.dimension)) {
        return bad(absl::StrCat(embedding->size(), "-dimensional vectors; the shards hold ",
                                options_.dimension));
      }

      std::vector<float>& vector = vectors[index];
      vector.reserve(options_.dimension);
      double norm = 0;
      for (const Json& value : *embedding) {
        const double wide = value.is_number() ? value.get<double>() : kNotAFloat;
        if (!(std::abs(wide) <= std::numeric_limits<float>::max())) {
          return bad(absl::StrCat("data[", position, "].embedding with the entry ", value.dump(),
                                  ", not a finite float"));
        }
        const float x = static_cast<float>(wide);
        vector.push_back(x);
        norm += static_cast<double>(x) * x;
      }
      if (norm > 0) {
        const float scale = static_cast<float>(1.0 / std::sqrt(norm));
        for (float& x : vector) x *= scale;
      }
    }
    return vectors;
  } catch (const Json::exception& e) {
    return bad(absl::StrCat("JSON that could not be read: ", e.what()));
  }
}

}  // namespace quarry::embed
