// Sentry's default server-side data scrubber and the per-project settings.
#include <catch2/catch.hpp>

#include <string>

#include "rookery/normalize/event.hpp"
#include "test_support.hpp"

using rookery::normalize::Context;
using rookery::normalize::NormalizeEvent;
using rookery::normalize::ScrubbingConfig;
using rookery::normalize::testing::At;
using rookery::normalize::testing::Json;
using rookery::normalize::testing::kSensitiveEvent;
using rookery::normalize::testing::ParseStored;
using rookery::normalize::testing::StringAt;

namespace {

Context WithScrubbing(ScrubbingConfig scrubbing) {
  Context context;
  context.received_at_ms = 1;
  context.client_ip = "192.0.2.10";
  context.scrubbing = std::move(scrubbing);
  return context;
}

}  // namespace

TEST_CASE("the default scrubber filters password-like keys everywhere data can be", "[unit][normalize]") {
  auto event = NormalizeEvent(kSensitiveEvent, WithScrubbing({}));
  REQUIRE(event.has_value());
  const auto stored = ParseStored(event->storable_json);
  for (int i = 1; i <= rookery::normalize::testing::kSensitiveSecrets; ++i) {
    INFO("secret p" << i);
    CHECK(event->storable_json.find("\"p" + std::to_string(i) + "\"") == std::string::npos);
  }
  CHECK(StringAt(stored, "/extra/password") == "[Filtered]");
  CHECK(StringAt(stored, "/extra/auth") == "[Filtered]");  // containers are replaced whole
  CHECK(StringAt(stored, "/extra/visible") == "shown");
  CHECK(Json(At(stored, "/extra/enabled")) == "true");  // booleans and null are left, as in Relay
  CHECK(Json(At(stored, "/extra/nothing")) == "null");
  CHECK(StringAt(stored, "/contexts/db/host") == "db.internal");
  CHECK(StringAt(stored, "/breadcrumbs/values/0/data/path") == "/login");
  CHECK(StringAt(stored, "/request/query_string/1/1") == "2");
  CHECK(Json(At(stored, "/_meta/extra/password/")) == R"({"rem":[["@password:filter","s",0,10]],"len":2})");
  CHECK(Json(At(stored, "/_meta/extra/auth/")) == R"({"rem":[["@password:filter","s",0,10]]})");
  CHECK(Json(At(stored, "/_meta/request/query_string/0/1/")) == R"({"rem":[["@password:filter","s",0,10]],"len":3})");
}

TEST_CASE("sensitive key parts are found anywhere in keys of any length and case", "[unit][normalize]") {
  const std::string padding(70, 'x');  // longer than the stack buffer keys are folded into
  const std::string json = R"({"extra":{"a_PASSWORD":"p1",")" + padding + R"(Token":"p2","XSRF":"p3",")" + padding +
                           R"(":"shown","passwor":"shown2","toke":"shown3","sessio_n":"shown4"}})";
  auto event = NormalizeEvent(json, WithScrubbing({}));
  REQUIRE(event.has_value());
  const auto stored = ParseStored(event->storable_json);
  CHECK(StringAt(stored, "/extra/a_PASSWORD") == "[Filtered]");
  CHECK(StringAt(stored, ("/extra/" + padding + "Token").c_str()) == "[Filtered]");
  CHECK(StringAt(stored, "/extra/XSRF") == "[Filtered]");
  CHECK(StringAt(stored, ("/extra/" + padding).c_str()) == "shown");
  CHECK(StringAt(stored, "/extra/passwor") == "shown2");
  CHECK(StringAt(stored, "/extra/toke") == "shown3");
  CHECK(StringAt(stored, "/extra/sessio_n") == "shown4");
}

TEST_CASE("extra_fields add keys and safe_fields exempt them", "[unit][normalize]") {
  ScrubbingConfig config;
  config.extra_fields = {"ssn", " "};
  config.safe_fields = {"Password"};
  auto event = NormalizeEvent(R"({"extra":{"customer_ssn":"078-05-1120","password":"kept","token":"gone"}})",
                              WithScrubbing(config));
  const auto stored = ParseStored(event->storable_json);
  CHECK(StringAt(stored, "/extra/customer_ssn") == "[Filtered]");
  CHECK(Json(At(stored, "/_meta/extra/customer_ssn/")) == R"({"rem":[["strip-fields","s",0,10]],"len":11})");
  CHECK(StringAt(stored, "/extra/password") == "kept");
  CHECK(StringAt(stored, "/extra/token") == "[Filtered]");
}

TEST_CASE("scrubbing can be turned off", "[unit][normalize]") {
  ScrubbingConfig config;
  config.enabled = false;
  auto event = NormalizeEvent(R"({"message":"card 4111 1111 1111 1111","extra":{"password":"p"},
      "request":{"cookies":{"sessionid":"s"},"headers":{"Authorization":"Bearer t"}}})",
                              WithScrubbing(config));
  const auto stored = ParseStored(event->storable_json);
  CHECK(StringAt(stored, "/extra/password") == "p");
  CHECK(StringAt(stored, "/request/cookies/sessionid") == "s");
  CHECK(StringAt(stored, "/request/headers/Authorization") == "Bearer t");
  CHECK(event->title == "card 4111 1111 1111 1111");
  CHECK(At(stored, "/_meta") == nullptr);
}

TEST_CASE("credit card numbers are filtered inside any text", "[unit][normalize]") {
  auto event = NormalizeEvent(R"({
      "message":"charge 4111 1111 1111 1111 failed, retry with 5555-5555-5555-4444 exp 2027",
      "exception":{"values":[{"type":"CardError","value":"card 378282246310005 declined"}]},
      "extra":{"plain":"4111111111111111","number":4012888888881881,"order":"4111 1111 1111 1112",
        "timestamp_ms":"1700000000000 and 1234567812345670","iban_like":"DE44 5001 0517 5407 3249 31"},
      "breadcrumbs":[{"message":"paid with 6011111111111117."}]})",
                              WithScrubbing({}));
  REQUIRE(event.has_value());
  CHECK(event->title == "CardError: card [Filtered] declined");
  CHECK(event->message == "charge [Filtered] failed, retry with [Filtered] exp 2027");
  const auto stored = ParseStored(event->storable_json);
  CHECK(Json(At(stored, "/_meta/message/")) ==
        R"({"rem":[["@creditcard:filter","s",7,17],["@creditcard:filter","s",37,47]],"len":74})");
  CHECK(StringAt(stored, "/extra/plain") == "[Filtered]");
  CHECK(StringAt(stored, "/extra/number") == "[Filtered]");
  CHECK(StringAt(stored, "/breadcrumbs/0/message") == "paid with [Filtered].");
  // Not Luhn-valid, or not a card issuer's number: left alone.
  CHECK(StringAt(stored, "/extra/order") == "4111 1111 1111 1112");
  CHECK(StringAt(stored, "/extra/timestamp_ms") == "1700000000000 and 1234567812345670");
  CHECK(StringAt(stored, "/extra/iban_like") == "DE44 5001 0517 5407 3249 31");
}

TEST_CASE("passwords in URLs and query strings are filtered", "[unit][normalize]") {
  auto event = NormalizeEvent(R"({
      "request":{"url":"https://shop.example/cb?code=1&access_token=abc#frag",
        "data":"{\"user\":\"ann\",\"password\":\"pw\",\"items\":[1,2]}"},
      "extra":{"dsn":"postgres://app:hunter2@db:5432/shop"}})",
                              WithScrubbing({}));
  const auto stored = ParseStored(event->storable_json);
  CHECK(StringAt(stored, "/request/url") == "https://shop.example/cb?code=1&access_token=[Filtered]#frag");
  CHECK(StringAt(stored, "/extra/dsn") == "postgres://app:[Filtered]@db:5432/shop");
  CHECK(Json(At(stored, "/_meta/extra/dsn/")) == R"({"rem":[["@urlauth:legacy","s",15,25]],"len":35})");
  // A JSON body sent as text is parsed, then scrubbed by key.
  CHECK(Json(At(stored, "/request/data")) == R"({"user":"ann","password":"[Filtered]","items":[1,2]})");
}

TEST_CASE("IP addresses are scrubbed only when the project asks", "[unit][normalize]") {
  const std::string json = R"({"platform":"javascript","message":"from 10.0.0.7 via 2001:db8::1",
      "user":{"ip_address":"{{auto}}","id":"5"},"request":{"env":{"REMOTE_ADDR":"10.0.0.7"},
      "headers":{"User-Agent":"Chrome/120.0.0.0","X-Real-Ip":"2001:db8::1"}},"sdk":{"client_ip":"10.0.0.7"}})";
  auto kept = NormalizeEvent(json, WithScrubbing({}));
  CHECK(kept->user.ip_address == "192.0.2.10");  // {{auto}}: the relay's view of the sender
  CHECK(kept->title == "from 10.0.0.7 via 2001:db8::1");

  ScrubbingConfig config;
  config.scrub_ip_addresses = true;
  auto scrubbed = NormalizeEvent(json, WithScrubbing(config));
  REQUIRE(scrubbed.has_value());
  CHECK(scrubbed->user.ip_address.empty());
  CHECK(scrubbed->user.id == "5");
  CHECK(scrubbed->title == "from [ip] via 2001:db8::1");
  const auto stored = ParseStored(scrubbed->storable_json);
  CHECK(At(stored, "/user/ip_address") == nullptr);
  CHECK(At(stored, "/request/env/REMOTE_ADDR") == nullptr);
  CHECK(At(stored, "/sdk/client_ip") == nullptr);
  CHECK(StringAt(stored, "/request/headers/User-Agent") == "Chrome/120.0.0.0");
  CHECK(StringAt(stored, "/request/headers/X-Real-Ip") == "[ip]");
  CHECK(Json(At(stored, "/_meta/user/ip_address/")) == R"({"rem":[["@anything:remove","x"]]})");
  CHECK(scrubbed->storable_json.find("10.0.0.7") == std::string::npos);
  CHECK(scrubbed->storable_json.find("192.0.2.10") == std::string::npos);
}

TEST_CASE("an SDK's own [Filtered] is not annotated again", "[unit][normalize]") {
  auto event = NormalizeEvent(R"({"extra":{"password":"[Filtered]"}})", WithScrubbing({}));
  CHECK(event->storable_json == R"({"extra":{"password":"[Filtered]"}})");
}

TEST_CASE("values normalization removes keep no secret in _meta", "[unit][normalize][scrub]") {
  // Invalid types are taken out of the event and kept in _meta as Relay does; the originals must
  // be scrubbed there too, or a malformed field carries a secret past the scrubber.
  const std::string body = R"({"message":"m","user":"card 4111111111111111","level":"4111111111111111",)"
                           R"("tags":"api_key=sk_live_abc123","request":"Authorization: Bearer s3cr3t-t0ken",)"
                           R"("environment":{"password":"hunter2"}})";
  auto event = rookery::normalize::NormalizeEvent(body, {});
  REQUIRE(event.has_value());
  const std::string& stored = event->storable_json;
  for (const char* secret : {"4111111111111111", "sk_live_abc123", "s3cr3t-t0ken", "hunter2"}) {
    INFO(secret << " in " << stored);
    CHECK(stored.find(secret) == std::string::npos);
  }
  // The originals are still there, scrubbed, and the request is out of the event.
  CHECK(stored.find(R"("_meta")") != std::string::npos);
  CHECK(stored.find(R"("request":"Authorization)") == std::string::npos);
  CHECK(stored.find("[Filtered]") != std::string::npos);
}

TEST_CASE("a project that turned scrubbing off keeps its _meta originals as sent", "[unit][normalize][scrub]") {
  rookery::normalize::Context context;
  context.scrubbing.enabled = false;
  auto event = rookery::normalize::NormalizeEvent(R"({"message":"m","user":"card 4111111111111111"})", context);
  REQUIRE(event.has_value());
  CHECK(event->storable_json.find("4111111111111111") != std::string::npos);
}
