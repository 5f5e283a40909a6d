#include "rookery/notify/send_error.hpp"

namespace rookery::notify {

const char* FailureKindName(FailureKind kind) {
  return kind == FailureKind::kTransient ? "transient" : "permanent";
}

std::optional<FailureKind> ClassifyHttpStatus(long status) {
  if (status >= 200 && status <= 299) return std::nullopt;
  // 408 and 429 are the receiver asking to be tried again later; other 4xx will not change.
  if (status == 408 || status == 429 || (status >= 500 && status <= 599)) return FailureKind::kTransient;
  // Zero (no answer at all) is a network failure, which the sender classifies before this.
  return FailureKind::kPermanent;
}

std::optional<FailureKind> ClassifySmtpReply(long reply_code) {
  if (reply_code >= 400 && reply_code <= 499) return FailureKind::kTransient;
  if (reply_code >= 500 && reply_code <= 599) return FailureKind::kPermanent;
  return std::nullopt;
}

}  // namespace rookery::notify
