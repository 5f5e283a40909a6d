// The scrubbing of data of unknown shape (dead letters): at least as strict as the event scrubber,
// whether the data parses as JSON or only as text.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "rookery/normalize/event.hpp"
#include "rookery/normalize/scrub.hpp"
#include "test_support.hpp"

using rookery::normalize::NormalizeEvent;
using rookery::normalize::RedactText;
using rookery::normalize::ScrubbedJson;
using rookery::normalize::ScrubbingConfig;

namespace {

std::string Scrubbed(const std::string& json, const ScrubbingConfig& config = {}) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNanAndInfFlag>(json.data(), json.size());
  REQUIRE_FALSE(document.HasParseError());
  return ScrubbedJson(document, config, 128);
}

struct Fixture {
  std::string json;
  std::vector<std::string> secrets;  // what the event scrubber filters
};

// The event scrubber's cases (test_support.hpp, scrub_test.cpp), each with the values it filters.
std::vector<Fixture> Fixtures() {
  std::vector<Fixture> fixtures;
  Fixture sensitive{rookery::normalize::testing::kSensitiveEvent, {}};
  for (int i = 1; i <= rookery::normalize::testing::kSensitiveSecrets; ++i)
    sensitive.secrets.push_back("p" + std::to_string(i) + "\"");
  fixtures.push_back(sensitive);
  fixtures.push_back({R"({
      "message":"charge 4111 1111 1111 1111 failed, retry with 5555-5555-5555-4444 exp 2027",
      "exception":{"values":[{"type":"CardError","value":"card 378282246310005 declined"}]},
      "extra":{"plain":"4111111111111111","number":4012888888881881},
      "breadcrumbs":[{"message":"paid with 6011111111111117."}]})",
                      {"4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "4111111111111111",
                       "4012888888881881", "6011111111111117"}});
  fixtures.push_back({R"({
      "request":{"url":"https://shop.example/cb?code=1&access_token=abc#frag",
        "data":"{\"user\":\"ann\",\"password\":\"pw\",\"items\":[1,2]}", "query_string":"a=1&pass%77ord=qs-secret"},
      "extra":{"dsn":"postgres://app:hunter2@db:5432/shop"}})",
                      {"=abc", "\\\"pw\\\"", "hunter2", "qs-secret"}});
  return fixtures;
}

}  // namespace

TEST_CASE("dead-letter scrubbing filters what the event scrubber filters, parsed or as text", "[unit][normalize]") {
  for (const Fixture& fixture : Fixtures()) {
    INFO(fixture.json);
    auto event = NormalizeEvent(fixture.json, {});
    REQUIRE(event.has_value());
    const std::string json = Scrubbed(fixture.json);
    const std::string text = RedactText(fixture.json, {});
    for (const std::string& secret : fixture.secrets) {
      INFO("secret " << secret);
      CHECK(fixture.json.find(secret) != std::string::npos);
      CHECK(event->storable_json.find(secret) == std::string::npos);  // the event scrubber's verdict
      CHECK(json.find(secret) == std::string::npos);
      // The query string's URL-encoded key is decoded only when the JSON is parsed.
      if (secret != "qs-secret") CHECK(text.find(secret) == std::string::npos);
    }
  }
}

TEST_CASE("dead-letter JSON keeps its shape and what is not secret", "[unit][normalize]") {
  CHECK(Scrubbed(R"({"extra":{"password":{"a":[1]},"visible":"shown","enabled":true,"nothing":null,"n":3.5,
      "auth":false,"token":null}})") ==
        R"({"extra":{"password":"[Filtered]","visible":"shown","enabled":true,"nothing":null,"n":3.5,)"
        R"("auth":false,"token":null}})");
  // Parsed with NaN allowed, stored without: PostgreSQL's jsonb has no NaN.
  CHECK(Scrubbed(R"({"x":NaN,"s":"bad \u0000 nul"})") == R"({"x":null,"s":"bad  nul"})");
  // Free text: "k=v" and "k: v" after a sensitive key, wherever it is.
  CHECK(Scrubbed(R"(["login failed: password=hunter2 user=ann", "Authorization: Bearer t0k", "form: passwd=x&a=1"])") ==
        R"(["login failed: password=[Filtered] user=ann","Authorization: [Filtered]","form: passwd=[Filtered]&a=1"])");
  // A [key, value] pair whose key is sensitive: the value goes whole.
  CHECK(Scrubbed(R"([["X-Auth", "a b c"], ["Accept", "text/html"]])") ==
        R"([["X-Auth","[Filtered]"],["Accept","text/html"]])");
  // JSON in a string is scrubbed as JSON and stays a string.
  CHECK(Scrubbed(R"({"body":"{\"token\": \"t0k\", \"n\": 1}"})") == R"({"body":"{\"token\":\"[Filtered]\",\"n\":1}"})");
  // Deeper than the limit: cut, in strings holding JSON too.
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  CHECK(Scrubbed(deep).size() == 128 * 2 + std::string("\"[too deep]\"").size());
  CHECK(Scrubbed("[\"" + deep + "\"]").find("[too deep]") != std::string::npos);
}

TEST_CASE("dead-letter scrubbing ignores a project's opt-outs and honours its additions", "[unit][normalize]") {
  ScrubbingConfig config;
  config.enabled = false;
  config.safe_fields = {"password"};
  config.extra_fields = {"ssn"};
  config.scrub_ip_addresses = true;
  CHECK(Scrubbed(R"({"password":"p","customer_ssn":"078-05-1120","m":"from 10.0.0.7 and 2001:db8::1."})", config) ==
        R"({"password":"[Filtered]","customer_ssn":"[Filtered]","m":"from [ip] and [ip]."})");
  CHECK(RedactText("password=p customer_ssn=078-05-1120 from 10.0.0.7 and [2001:db8::1]:443, std::string", config) ==
        "password=[Filtered] customer_ssn=[Filtered] from [ip] and [[ip]]:443, std::string");
  // Without IP scrubbing, addresses stay.
  CHECK(RedactText("from 10.0.0.7 and 2001:db8::1", {}) == "from 10.0.0.7 and 2001:db8::1");
}

TEST_CASE("redacted text: values after sensitive keys, in the forms text carries them", "[unit][normalize]") {
  const auto redact = [](std::string_view text) { return RedactText(text, {}); };
  CHECK(redact("a=1&password=hunter2&b=2") == "a=1&password=[Filtered]&b=2");
  CHECK(redact("password = hunter2; next") == "password = [Filtered]; next");
  CHECK(redact("Authorization: Bearer abc def\r\nAccept: */*") == "Authorization: [Filtered]\r\nAccept: */*");
  CHECK(redact(R"({"password": "hun\"ter2", "n": 1})") == R"({"password": "[Filtered]", "n": 1})");
  CHECK(redact(R"({"session_id": 12345, "n": 1})") == R"({"session_id": [Filtered], "n": 1})");
  CHECK(redact(R"({"auth": {"user": "u", "pass": "p"}, "n": 1})") == R"({"auth": [Filtered], "n": 1})");
  CHECK(redact(R"([["Authorization", "Bearer x"], ["Accept", "text/html"]])") ==
        R"([["Authorization", "[Filtered]"], ["Accept", "text/html"]])");
  CHECK(redact(R"({"category":"auth","data":{"x":1}})") == R"({"category":"auth","data":{"x":1}})");
  CHECK(redact("password='hunter2' ok") == "password='[Filtered]' ok");
  // JSON inside a JSON string, as in a truncated event: \" quotes, and \\\" inside them.
  CHECK(redact(R"({"data":"{\"password\":\"a\\\"b\",\"n\":1}")") ==
        R"({"data":"{\"password\":\"[Filtered]\",\"n\":1}")");
  // Words alone, or keys without a value, are left.
  CHECK(redact("wrong password. token expired") == "wrong password. token expired");
  CHECK(redact("password=") == "password=");
  // Already filtered: unchanged.
  CHECK(redact("password=[Filtered]") == "password=[Filtered]");
  // Cards, URL passwords.
  CHECK(redact("card 4111-1111-1111-1111, db postgres://app:pw@db/x") ==
        "card [Filtered], db postgres://app:[Filtered]@db/x");
  // Bytes that are not text become '?'; valid UTF-8 is kept.
  CHECK(redact(std::string("\x00\x01zst\xff\xfe\t\n", 9) + "caf\xc3\xa9 \xe2\x82") == "??zst??\t\ncaf\xc3\xa9 ??");
}
