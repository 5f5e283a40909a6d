#include "rookery/notify/webhook.hpp"

#include <algorithm>
#include <ctime>

#include "curl_util.hpp"
#include "rookery/core/env.hpp"
#include "rookery/core/strings.hpp"

#ifndef ROOKERY_NOTIFY_VERSION
#define ROOKERY_NOTIFY_VERSION "0.0.0"
#endif

namespace rookery::notify {
namespace {

// What the error detail quotes of a refusing receiver's answer: enough to see why.
constexpr std::size_t kDetailBodyChars = 200;

struct ResponseSink {
  std::string body;
  std::size_t cap = 0;
  bool truncated = false;
};

std::size_t WriteResponse(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<ResponseSink*>(user);
  const std::size_t n = size * count;
  const std::size_t room = sink->cap - std::min(sink->cap, sink->body.size());
  if (n > room) {
    // Stop reading: the status is already known, and the rest is not worth the bandwidth.
    sink->body.append(data, room);
    sink->truncated = true;
    return 0;
  }
  sink->body.append(data, n);
  return n;
}

// Header values come from callers; a CR or LF would start a header of its own.
std::string HeaderSafe(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) out.push_back(c);
  }
  return out;
}

std::string Printable(std::string_view text) {
  std::string out;
  for (char c : TruncateUtf8(text, kDetailBodyChars)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  return out;
}

}  // namespace

std::string DefaultUserAgent() {
  return "Rookery/" ROOKERY_NOTIFY_VERSION;
}

WebhookConfig WebhookConfigFromEnv() {
  WebhookConfig config;
  config.connect_timeout = std::chrono::milliseconds(EnvInt("ROOKERY_WEBHOOK_CONNECT_TIMEOUT_MS", 5000, 100, 300000));
  config.timeout = std::chrono::milliseconds(EnvInt("ROOKERY_WEBHOOK_TIMEOUT_MS", 10000, 100, 600000));
  config.verify_tls = EnvInt("ROOKERY_WEBHOOK_VERIFY_TLS", 1, 0, 1) == 1;
  config.ca_file = EnvString("ROOKERY_WEBHOOK_CA_FILE", "");
  return config;
}

WebhookSender::WebhookSender(WebhookConfig config) : config_(std::move(config)) {
  if (config_.user_agent.empty()) config_.user_agent = DefaultUserAgent();
}

Expected<WebhookDelivery, SendError> WebhookSender::Post(const WebhookRequest& request) const {
  internal::CurlErrorBuffer error{};
  internal::CurlEasy curl = internal::NewEasy("http,https", config_.connect_timeout, config_.timeout,
                                              config_.verify_tls, config_.ca_file, error);
  if (!curl) return MakeUnexpected(SendError{FailureKind::kTransient, 0, "libcurl unavailable", std::nullopt});
  CURL* handle = curl.get();

  const std::int64_t timestamp = request.timestamp != 0 ? request.timestamp : std::time(nullptr);
  internal::CurlList headers;
  bool headers_ok = headers.Append("Content-Type: application/json") &&
                    headers.Append(std::string(kTimestampHeader) + ": " + std::to_string(timestamp)) &&
                    // libcurl would otherwise wait for "100 Continue" before sending a larger body.
                    headers.Append("Expect:");
  if (!request.secret.empty()) {
    headers_ok = headers_ok && headers.Append(std::string(kSignatureHeader) + ": " +
                                              SignWebhook(request.secret, timestamp, request.body));
  }
  if (!request.delivery_id.empty()) {
    headers_ok = headers_ok && headers.Append(std::string(kDeliveryHeader) + ": " + HeaderSafe(request.delivery_id));
  }
  if (!headers_ok) return MakeUnexpected(SendError{FailureKind::kTransient, 0, "out of memory", std::nullopt});

  ResponseSink sink{{}, config_.max_response_bytes, false};
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_USERAGENT, config_.user_agent.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.Get());
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &WriteResponse);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &sink);

  const CURLcode code = curl_easy_perform(handle);
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  const bool capped = code == CURLE_WRITE_ERROR && sink.truncated;
  if (code != CURLE_OK && !capped) {
    const auto kind = internal::IsPermanentCurlFailure(code) ? FailureKind::kPermanent : FailureKind::kTransient;
    return MakeUnexpected(SendError{kind, status, internal::FailureText(code, error), std::nullopt});
  }
  const auto failure = ClassifyHttpStatus(status);
  if (!failure) return WebhookDelivery{status, std::move(sink.body), sink.truncated};

  SendError send_error{*failure, status, "HTTP " + std::to_string(status), std::nullopt};
  if (!sink.body.empty()) send_error.detail += ": " + Printable(sink.body);
  curl_off_t retry_after = 0;
  if (curl_easy_getinfo(handle, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0) {
    send_error.retry_after = std::chrono::seconds(retry_after);
  }
  return MakeUnexpected(std::move(send_error));
}

}  // namespace rookery::notify
