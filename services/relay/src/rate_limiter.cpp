#include "rate_limiter.hpp"

#include <algorithm>
#include <cctype>

namespace rookery::relay {

RateDecision RateLimiter::Check(std::int64_t key_id, std::int64_t limit, std::int64_t window_seconds,
                                std::int64_t now_ms) {
  const std::int64_t window_ms = window_seconds * 1000;
  std::lock_guard lock(mutex_);
  Window& window = windows_[key_id];
  if (now_ms - window.start_ms >= window_ms || now_ms < window.start_ms) {
    window.start_ms = now_ms - now_ms % window_ms;  // aligned windows: every replica agrees on them
    window.count = 0;
  }
  if (window.count >= limit) {
    const std::int64_t remaining_ms = window.start_ms + window_ms - now_ms;
    return RateDecision{false, std::max<std::int64_t>(1, (remaining_ms + 999) / 1000)};
  }
  ++window.count;
  return RateDecision{};
}

namespace {

std::string HostOf(std::string_view origin) {
  if (auto scheme = origin.find("://"); scheme != std::string_view::npos) origin.remove_prefix(scheme + 3);
  origin = origin.substr(0, origin.find_first_of("/?#"));
  if (auto at = origin.rfind('@'); at != std::string_view::npos) origin.remove_prefix(at + 1);
  if (!origin.empty() && origin.front() == '[') {
    origin = origin.substr(0, origin.find(']') + 1);  // IPv6 literal keeps its colons
  } else {
    origin = origin.substr(0, origin.find(':'));
  }
  std::string host(origin);
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  return host;
}

}  // namespace

bool OriginAllowed(std::string_view origin, const std::vector<std::string>& patterns) {
  const std::string host = HostOf(origin);
  for (const auto& raw : patterns) {
    std::string pattern = HostOf(raw);
    if (raw == "*") return true;
    if (pattern.empty()) continue;
    if (pattern.rfind("*.", 0) == 0) {
      const std::string suffix = pattern.substr(1);  // ".example.com"
      if (host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return true;
      }
      if (host == pattern.substr(2)) return true;
    } else if (host == pattern) {
      return true;
    }
  }
  return false;
}

}  // namespace rookery::relay
