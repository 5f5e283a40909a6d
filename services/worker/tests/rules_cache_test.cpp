#include <catch2/catch.hpp>

#include "rules_cache.hpp"

using rookery::worker::RulesCache;

TEST_CASE("project rules parse from Sentry's text languages", "[unit][worker]") {
  auto rules = RulesCache::Parse("error.type:DatabaseError -> database-errors\n", "path:**/vendor/** -app\n");
  REQUIRE(rules.has_value());
  CHECK(rules->fingerprinting.size() == 1);
  CHECK(rules->enhancements.size() == 1);
  CHECK(RulesCache::Parse("", "")->fingerprinting.empty());
  auto broken = RulesCache::Parse("error.type:X ->", "");
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().rfind("fingerprinting rules: ", 0) == 0);
  CHECK(RulesCache::Parse("", "path:** +nonsense").error().rfind("stack-trace rules: ", 0) == 0);
}
