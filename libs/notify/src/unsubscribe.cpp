#include "rookery/notify/unsubscribe.hpp"

#include <sodium.h>

#include <charconv>

#include "rookery/notify/webhook.hpp"

namespace rookery::notify {
namespace {

// Domain-separated from webhook signatures, which may share the same secret.
std::string Signature(std::string_view secret, const UnsubscribeTarget& target) {
  return HmacSha256Hex(
      secret, "rookery-unsubscribe:" + std::to_string(target.user_id) + ":" + std::to_string(target.project_id));
}

bool ParsePositive(std::string_view text, std::int64_t& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() && out > 0;
}

}  // namespace

std::string MakeUnsubscribeToken(std::string_view secret, const UnsubscribeTarget& target) {
  return std::to_string(target.user_id) + "." + std::to_string(target.project_id) + "." + Signature(secret, target);
}

std::optional<UnsubscribeTarget> VerifyUnsubscribeToken(std::string_view secret, std::string_view token) {
  if (secret.empty()) return std::nullopt;
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  UnsubscribeTarget target;
  if (!ParsePositive(token.substr(0, first), target.user_id) ||
      !ParsePositive(token.substr(first + 1, second - first - 1), target.project_id)) {
    return std::nullopt;
  }
  const std::string expected = Signature(secret, target);
  const std::string_view given = token.substr(second + 1);
  if (given.size() != expected.size() || sodium_memcmp(expected.data(), given.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  return target;
}

}  // namespace rookery::notify
