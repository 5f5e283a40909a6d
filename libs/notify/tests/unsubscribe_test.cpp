#include <catch2/catch.hpp>

#include "rookery/notify/unsubscribe.hpp"

using rookery::notify::MakeUnsubscribeToken;
using rookery::notify::UnsubscribeTarget;
using rookery::notify::VerifyUnsubscribeToken;

TEST_CASE("an unsubscribe token names its user and project and nobody else's", "[unit][notify]") {
  const std::string token = MakeUnsubscribeToken("installation secret", {.user_id = 7, .project_id = 42});
  CHECK(token.rfind("7.42.", 0) == 0);

  const auto target = VerifyUnsubscribeToken("installation secret", token);
  REQUIRE(target.has_value());
  CHECK(target->user_id == 7);
  CHECK(target->project_id == 42);

  // Another secret, another user, a truncated or tampered signature: all refused.
  CHECK_FALSE(VerifyUnsubscribeToken("another secret", token).has_value());
  CHECK_FALSE(VerifyUnsubscribeToken("", token).has_value());
  std::string other_user = token;
  other_user[0] = '8';
  CHECK_FALSE(VerifyUnsubscribeToken("installation secret", other_user).has_value());
  CHECK_FALSE(VerifyUnsubscribeToken("installation secret", token.substr(0, token.size() - 1)).has_value());
  std::string flipped = token;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  CHECK_FALSE(VerifyUnsubscribeToken("installation secret", flipped).has_value());
  for (const char* junk : {"", "7", "7.42", "7.42.", "-7.42.ab", "x.42.ab", "7.42.zz"}) {
    CHECK_FALSE(VerifyUnsubscribeToken("installation secret", junk).has_value());
  }
}
