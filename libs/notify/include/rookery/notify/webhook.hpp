// rookery::notify — signed JSON webhooks over HTTP(S) (libcurl).
//
// Signature scheme (what a receiver checks):
//   X-Rookery-Timestamp: <unix seconds when the request was signed>
//   X-Rookery-Signature: sha256=<lower-case hex of HMAC-SHA256(secret, "<timestamp>.<body>")>
// where <body> is the exact bytes of the request body and <timestamp> the header's decimal text.
// A receiver recomputes the HMAC over the raw body it read (before any JSON parsing), compares in
// constant time, and refuses timestamps more than a few minutes from its clock, so that a captured
// request cannot be replayed later. The timestamp is inside the signed string, so it cannot be
// changed without the secret. Retries are signed afresh (new timestamp) and keep their
// X-Rookery-Delivery id, which receivers can use to drop duplicates.
//
// Every request has a connect and a total timeout, redirects are not followed, only http and https
// are spoken, and the response body is read up to a cap.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rookery/core/expected.hpp"
#include "rookery/notify/send_error.hpp"

namespace rookery::notify {

inline constexpr std::string_view kSignatureHeader = "X-Rookery-Signature";
inline constexpr std::string_view kTimestampHeader = "X-Rookery-Timestamp";
inline constexpr std::string_view kDeliveryHeader = "X-Rookery-Delivery";

/// Lower-case hex HMAC-SHA256 of `message` under `key` (any length, RFC 2104), via libsodium.
std::string HmacSha256Hex(std::string_view key, std::string_view message);

/// "sha256=<hex>" over "<timestamp>.<body>", the X-Rookery-Signature value.
std::string SignWebhook(std::string_view secret, std::int64_t timestamp, std::string_view body);

/// Checks a received X-Rookery-Signature value in constant time. The timestamp's age is the
/// caller's to judge.
bool VerifyWebhookSignature(std::string_view secret, std::int64_t timestamp, std::string_view body,
                            std::string_view signature_header);

struct WebhookConfig {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{10000};  // the whole request, connect included
  std::size_t max_response_bytes = std::size_t{64} * 1024;
  bool verify_tls = true;  // off only for development endpoints with self-signed certificates
  std::string ca_file;     // empty: the system's CA store
  std::string user_agent;  // empty: "Rookery/<version>"
};

/// ROOKERY_WEBHOOK_CONNECT_TIMEOUT_MS, ROOKERY_WEBHOOK_TIMEOUT_MS, ROOKERY_WEBHOOK_VERIFY_TLS (1 | 0),
/// ROOKERY_WEBHOOK_CA_FILE. Throws ConfigError at start-up for values that cannot work.
WebhookConfig WebhookConfigFromEnv();

struct WebhookRequest {
  std::string url;   // http:// or https://
  std::string body;  // JSON, sent as it is
  /// Empty: the request goes out unsigned (the timestamp header is still sent).
  std::string secret;
  /// Unix seconds to sign with; 0 means now. Set only by tests that need a fixed signature.
  std::int64_t timestamp = 0;
  /// Stable across retries of one notification, sent as X-Rookery-Delivery when not empty.
  std::string delivery_id;
};

struct WebhookDelivery {
  long status = 0;
  std::string body;  // at most max_response_bytes of the response body
  bool body_truncated = false;
};

class WebhookSender {
 public:
  explicit WebhookSender(WebhookConfig config);

  /// POSTs the request. 2xx is success; see ClassifyHttpStatus for the rest; network failures and
  /// timeouts are transient, a malformed URL or a TLS verification failure permanent. Safe to call
  /// from several threads at once.
  [[nodiscard]] Expected<WebhookDelivery, SendError> Post(const WebhookRequest& request) const;

 private:
  WebhookConfig config_;
};

/// "Rookery/<version>" for this build.
std::string DefaultUserAgent();

}  // namespace rookery::notify
