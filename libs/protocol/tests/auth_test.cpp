#include <catch2/catch.hpp>

#include "rookery/protocol/auth.hpp"

using namespace rookery::protocol;

namespace {
constexpr const char* kKey = "e12d836b15bb49d7bbf99e64295d995b";
}

TEST_CASE("X-Sentry-Auth as sentry-python 1.9 sends it", "[unit][protocol]") {
  auto auth = ParseAuthHeader(std::string("Sentry sentry_key=") + kKey +
                              ", sentry_version=7, sentry_client=sentry.python/1.9.10");
  REQUIRE(auth.has_value());
  CHECK(auth->public_key == kKey);
  CHECK(auth->version == 7);
  CHECK(auth->client == "sentry.python/1.9.10");
}

TEST_CASE("auth header variants real clients send", "[unit][protocol]") {
  SECTION("no spaces after commas, secret and timestamp (raven)") {
    auto auth = ParseAuthHeader(std::string("Sentry sentry_timestamp=1700000000.5,sentry_client=raven-python/6.10.0,"
                                            "sentry_version=6,sentry_key=") +
                                kKey + ",sentry_secret=abc");
    REQUIRE(auth.has_value());
    CHECK(auth->version == 6);
    CHECK(auth->secret_key == "abc");
  }
  SECTION("version with a minor part and a key with flags") {
    auto auth = ParseAuthHeader(std::string("sentry sentry_version=2.0, sentry_key=") + kKey + ".no-cache");
    REQUIRE(auth.has_value());
    CHECK(auth->version == 2);
    CHECK(auth->public_key == kKey);
  }
}

TEST_CASE("malformed auth is refused with Sentry's reasons", "[unit][protocol]") {
  CHECK(ParseAuthHeader("Sentry sentry_version=7").error().code == IngestErrorCode::kBadAuth);
  CHECK(ParseAuthHeader("Sentry sentry_version=7").error().cause == "missing public key in auth header");
  CHECK(ParseAuthHeader("Sentry sentry_key=short").error().code == IngestErrorCode::kBadPublicKey);
  CHECK(ParseAuthHeader(std::string("Sentry sentry_key=") + kKey + ", sentry_version=x").error().code ==
        IngestErrorCode::kBadAuth);
  CHECK(ParseAuthHeader(std::string("Sentry sentry_key=") + kKey + ", sentry_version=8").error().code ==
        IngestErrorCode::kUnsupportedVersion);
  CHECK(ParseAuthHeader("Bearer abc").error().code == IngestErrorCode::kBadAuth);
}

TEST_CASE("query-string auth as browser SDKs send it", "[unit][protocol]") {
  auto auth = ParseAuthQuery(std::string("sentry_version=7&sentry_key=") + kKey +
                             "&sentry_client=sentry.javascript.browser%2F11.12.0");
  REQUIRE(auth.has_value());
  CHECK(auth->public_key == kKey);
  CHECK(auth->client == "sentry.javascript.browser/11.12.0");
}

TEST_CASE("choosing the auth source", "[unit][protocol]") {
  const std::string header = std::string("Sentry sentry_key=") + kKey;
  const std::string query = std::string("sentry_key=") + kKey;
  CHECK(ExtractAuth({}).error().code == IngestErrorCode::kMissingAuth);
  CHECK(ExtractAuth({"", "Bearer something", ""}).error().code == IngestErrorCode::kMissingAuth);
  CHECK(ExtractAuth({header, "", ""})->public_key == kKey);
  CHECK(ExtractAuth({"", header, ""})->public_key == kKey);
  CHECK(ExtractAuth({"", "", query})->public_key == kKey);
  CHECK(ExtractAuth({header, "", query}).error().code == IngestErrorCode::kMultipleAuth);
}

TEST_CASE("SDK identity from sentry_client or User-Agent", "[unit][protocol]") {
  CHECK(ParseSdkIdentity("sentry.python/1.9.10").name == "sentry.python");
  CHECK(ParseSdkIdentity("sentry.python/1.9.10").version == "1.9.10");
  CHECK(ParseSdkIdentity("raven-node").version.empty());
}

TEST_CASE("DSNs as envelopes carry them", "[unit][protocol]") {
  auto dsn = ParseDsn("https://e12d836b15bb49d7bbf99e64295d995b:secret@sentry.example.com/sub/path/42");
  REQUIRE(dsn.has_value());
  CHECK(dsn->public_key == "e12d836b15bb49d7bbf99e64295d995b");
  CHECK(dsn->secret_key == "secret");
  CHECK(dsn->project_id == 42);
  CHECK(ParseDsn("http://e12d836b15bb49d7bbf99e64295d995b@localhost:3000/7")->project_id == 7);
  CHECK(ParseDsn("http://e12d836b15bb49d7bbf99e64295d995b@localhost:3000/7/")->project_id == 7);

  CHECK(ParseDsn("not a dsn").error().code == IngestErrorCode::kBadAuth);
  CHECK(ParseDsn("http://localhost/7").error().code == IngestErrorCode::kBadAuth);
  CHECK(ParseDsn("http://e12d836b15bb49d7bbf99e64295d995b@localhost/zero").error().code == IngestErrorCode::kBadAuth);
  CHECK(ParseDsn("http://short@localhost/7").error().code == IngestErrorCode::kBadPublicKey);
}
