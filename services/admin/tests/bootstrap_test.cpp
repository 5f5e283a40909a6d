#include <sodium.h>
#include <catch2/catch.hpp>

#include <set>

#include "bootstrap.hpp"
#include "secrets.hpp"

using namespace rookery::admin;

TEST_CASE("DSNs are built from the relay's public URL", "[unit][admin]") {
  const std::string key = "e12d836b15bb49d7bbf99e64295d995b";
  CHECK(MakeDsn("http://localhost:3000", key, 1) == "http://" + key + "@localhost:3000/1");
  CHECK(MakeDsn("https://errors.example.com/", key, 42) == "https://" + key + "@errors.example.com/42");
  CHECK(MakeDsn("https://example.com/sentry", key, 7) == "https://" + key + "@example.com/sentry/7");
}

TEST_CASE("credentials are random hex of the asked length", "[unit][admin]") {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string key = RandomHex(16);
    CHECK(key.size() == 32);
    CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(key);
  }
  CHECK(seen.size() == 50);
}

TEST_CASE("passwords are stored as argon2id and verify", "[unit][admin]") {
  const std::string hashed = HashPassword("correct horse");
  CHECK(hashed.rfind("$argon2id$", 0) == 0);
  CHECK(crypto_pwhash_str_verify(hashed.c_str(), "correct horse", 13) == 0);
  CHECK(crypto_pwhash_str_verify(hashed.c_str(), "wrong horse", 11) != 0);
}
