// Per-key event quotas: a fixed window per key, counted in this relay's memory.
//
// Each relay replica counts on its own, so with N replicas behind a load balancer a key can send
// up to N times its quota per window; set quotas with that in mind (docs/configuration.md).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rookery::relay {

struct RateDecision {
  bool allowed = true;
  std::int64_t retry_after_seconds = 0;  // when refused: until the window ends, at least 1
};

class RateLimiter {
 public:
  /// Counts one event for `key_id` against `limit` per `window_seconds`, at `now_ms`.
  RateDecision Check(std::int64_t key_id, std::int64_t limit, std::int64_t window_seconds, std::int64_t now_ms);

 private:
  struct Window {
    std::int64_t start_ms = 0;
    std::int64_t count = 0;
  };
  std::mutex mutex_;
  std::unordered_map<std::int64_t, Window> windows_;
};

/// Whether a browser `origin` ("https://app.example.com:8443", or a Referer URL) matches one of
/// the key's patterns: "*", "example.com", "*.example.com" (host only; scheme and port ignored).
bool OriginAllowed(std::string_view origin, const std::vector<std::string>& patterns);

}  // namespace rookery::relay
