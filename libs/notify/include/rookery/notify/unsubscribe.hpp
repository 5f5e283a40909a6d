// One-click unsubscribe links in alert mail. Cron signs "stop mailing user U about project P"
// with the installation's secret (ROOKERY_SECRET_KEY); web checks the signature and applies it,
// so the link works without a login and cannot be forged for another user or project.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rookery::notify {

struct UnsubscribeTarget {
  std::int64_t user_id = 0;
  std::int64_t project_id = 0;
};

/// "<user>.<project>.<hex HMAC-SHA256>", URL-safe as it stands.
std::string MakeUnsubscribeToken(std::string_view secret, const UnsubscribeTarget& target);

/// The target when the token is well formed and signed with `secret`; nothing otherwise.
std::optional<UnsubscribeTarget> VerifyUnsubscribeToken(std::string_view secret, std::string_view token);

}  // namespace rookery::notify
