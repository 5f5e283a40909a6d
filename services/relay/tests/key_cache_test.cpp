#include <catch2/catch.hpp>

#include "key_cache.hpp"

using namespace rookery::relay;

TEST_CASE("the key cache serves snapshots and swaps them atomically", "[unit][relay]") {
  KeyCache cache;
  CHECK_FALSE(cache.Loaded());
  CHECK_FALSE(cache.Find("e12d836b15bb49d7bbf99e64295d995b").has_value());

  cache.Replace({{"e12d836b15bb49d7bbf99e64295d995b", ProjectKey{1, 42, true}}});
  CHECK(cache.Loaded());
  auto key = cache.Find("e12d836b15bb49d7bbf99e64295d995b");
  REQUIRE(key.has_value());
  CHECK(key->project_id == 42);

  cache.Replace({{"e12d836b15bb49d7bbf99e64295d995b", ProjectKey{1, 42, false}}});
  CHECK_FALSE(cache.Find("e12d836b15bb49d7bbf99e64295d995b")->active);
  cache.Replace({});
  CHECK_FALSE(cache.Find("e12d836b15bb49d7bbf99e64295d995b").has_value());
  CHECK(cache.Loaded());
}
