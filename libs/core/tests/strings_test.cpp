#include <catch2/catch.hpp>

#include "rookery/core/strings.hpp"

TEST_CASE("url decoding", "[unit][core]") {
  CHECK(rookery::UrlDecode("raven-js%2F3.27.2") == "raven-js/3.27.2");
  CHECK(rookery::UrlDecode("a+b") == "a b");
  CHECK(rookery::UrlDecode("bad%zzescape%") == "bad%zzescape%");
}

TEST_CASE("utf-8 truncation never splits a character", "[unit][core]") {
  CHECK(rookery::TruncateUtf8("h\xc3\xa9llo", 2) == "h\xc3\xa9");
  CHECK(rookery::TruncateUtf8("abc", 10) == "abc");
}
