// rookery::notify — how a delivery failed, as a value the caller can schedule retries from.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace rookery::notify {

enum class FailureKind {
  kTransient,  // worth retrying with backoff: network, timeout, 4xx SMTP reply, HTTP 5xx/408/429
  kPermanent,  // retrying the same request cannot help: 5xx SMTP reply, bad recipient, HTTP 4xx, bad config
};

struct SendError {
  FailureKind kind = FailureKind::kTransient;
  /// The SMTP reply code or HTTP status that decided the outcome; 0 when no server answered.
  long status = 0;
  /// For logs: never holds credentials, secrets or message bodies.
  std::string detail;
  /// The server's Retry-After (HTTP 429/503), to use instead of the caller's own backoff step.
  std::optional<std::chrono::seconds> retry_after;

  [[nodiscard]] bool Transient() const { return kind == FailureKind::kTransient; }
};

/// "transient" or "permanent".
const char* FailureKindName(FailureKind kind);

/// How a webhook's HTTP status is taken: nullopt for 2xx; 408, 429 and 5xx transient; everything
/// else permanent (redirects are not followed, so a 3xx means the configured URL is wrong).
std::optional<FailureKind> ClassifyHttpStatus(long status);

/// How an SMTP reply code is taken when the transfer failed: 4xx transient, 5xx permanent.
/// nullopt when the code does not decide it (0: the server never answered).
std::optional<FailureKind> ClassifySmtpReply(long reply_code);

}  // namespace rookery::notify
