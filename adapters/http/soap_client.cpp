// The SOAP client on libcurl's easy interface (adapters/http/soap_client.hpp).
#include "adapters/http/soap_client.hpp"

#include <curl/curl.h>

#include <mutex>

namespace licgate::adapters::http {

using registry::ErrorCode;
using registry::makeError;

namespace {

// curl_global_init is not thread-safe and must run before any handle.
void initialiseCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Received {
  std::string body;
  std::size_t limit = 0;
  bool over_limit = false;
};

std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  const std::size_t bytes = size * count;
  if (received->body.size() + bytes > received->limit) {
    received->over_limit = true;
    return 0;  // stops the transfer with CURLE_WRITE_ERROR
  }
  received->body.append(data, bytes);
  return bytes;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  void add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
};

std::string contentTypeFor(mapping::SoapVersion version, const std::string& action) {
  std::string type(mapping::soapContentType(version));
  if (version == mapping::SoapVersion::k12 && !action.empty()) {
    type += "; action=\"" + action + "\"";
  }
  return type;
}

}  // namespace

struct SoapClient::Handle {
  CURL* easy = nullptr;
  ~Handle() { curl_easy_cleanup(easy); }
};

bool SoapAnswer::retryable() const {
  if (fault) {
    return mapping::isRetryableFault(*fault);
  }
  return http_status >= 500 || http_status == 408 || http_status == 429;
}

SoapClient::SoapClient(SoapClientOptions options)
    : options_(options), handle_(std::make_unique<Handle>()) {
  initialiseCurlOnce();
  handle_->easy = curl_easy_init();
}

SoapClient::~SoapClient() = default;

registry::Result<SoapAnswer> SoapClient::call(const std::string& url, mapping::SoapVersion version,
                                              const std::string& action,
                                              const std::string& envelope) {
  CURL* easy = handle_->easy;
  if (easy == nullptr) {
    return makeError(ErrorCode::kUnavailable, "SOAP call to " + url + ": libcurl did not start");
  }
  HeaderList headers;
  headers.add("Content-Type: " + contentTypeFor(version, action));
  if (version == mapping::SoapVersion::k11) {
    headers.add("SOAPAction: \"" + action + "\"");
  }
  // An empty Expect saves the round trip of "100-continue" on larger bodies.
  headers.add("Expect:");
  Received received;
  received.limit = options_.max_answer_bytes;
  char error_text[CURL_ERROR_SIZE] = {};

  curl_easy_reset(easy);
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, envelope.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(envelope.size()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, options_.total_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes_per_s);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, options_.low_speed_time_s);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM, safe in threads
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");

  CURLcode done = curl_easy_perform(easy);
  if (done != CURLE_OK) {
    std::string why =
        received.over_limit
            ? "the answer is over " + std::to_string(options_.max_answer_bytes) + " bytes"
            : (error_text[0] != '\0' ? error_text : curl_easy_strerror(done));
    return makeError(ErrorCode::kUnavailable, "SOAP call to " + url + ": " + why);
  }

  SoapAnswer answer;
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  answer.http_status = static_cast<int>(status);
  char* content_type = nullptr;
  curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
  answer.content_type = content_type != nullptr ? content_type : "";
  long connects = 0;
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
  answer.reused_connection = connects == 0;
  answer.body = std::move(received.body);
  answer.fault = mapping::readSoapFault(answer.body, answer.content_type);
  return answer;
}

}  // namespace licgate::adapters::http
