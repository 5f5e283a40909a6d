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

TEST_CASE("HTML escaping and issue short ids", "[unit][core]") {
  CHECK(rookery::EscapeHtml(R"(<a href="x">Tom & 'Jerry'</a>)") ==
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  CHECK(rookery::EscapeHtml("plain") == "plain");
  CHECK(rookery::IssueShortId("backend-api", 12) == "BACKEND-API-12");
}
