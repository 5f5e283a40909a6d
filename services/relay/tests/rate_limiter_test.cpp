#include <catch2/catch.hpp>

#include "rate_limiter.hpp"

using namespace rookery::relay;

TEST_CASE("a key gets its quota per window and a Retry-After until the window ends", "[unit][relay]") {
  RateLimiter limiter;
  const std::int64_t start = 1'700'000'020'000;  // 40 s into a 60 s window
  CHECK(limiter.Check(1, 2, 60, start).allowed);
  CHECK(limiter.Check(1, 2, 60, start + 100).allowed);
  const auto refused = limiter.Check(1, 2, 60, start + 200);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_seconds == 20);
  CHECK(limiter.Check(2, 2, 60, start + 200).allowed);             // other keys are not affected
  CHECK(limiter.Check(1, 2, 60, start + 20'000).allowed);          // the next window starts afresh
  CHECK(limiter.Check(1, 1, 1, start + 20'999).allowed == false);  // refusals are at least 1 s
  CHECK(limiter.Check(1, 1, 1, start + 20'999).retry_after_seconds == 1);
}

TEST_CASE("allowed origins", "[unit][relay]") {
  const std::vector<std::string> any = {"*"};
  CHECK(OriginAllowed("https://anything.test", any));
  const std::vector<std::string> patterns = {"example.com", "*.shop.test"};
  CHECK(OriginAllowed("https://example.com", patterns));
  CHECK(OriginAllowed("http://EXAMPLE.com:8080", patterns));
  CHECK(OriginAllowed("https://example.com/some/page?x=1", patterns));  // a Referer
  CHECK_FALSE(OriginAllowed("https://evil-example.com", patterns));
  CHECK_FALSE(OriginAllowed("https://sub.example.com", patterns));
  CHECK(OriginAllowed("https://a.b.shop.test", patterns));
  CHECK(OriginAllowed("https://shop.test", patterns));
  CHECK_FALSE(OriginAllowed("https://shop.test.evil", patterns));
  CHECK_FALSE(OriginAllowed("null", patterns));
}
