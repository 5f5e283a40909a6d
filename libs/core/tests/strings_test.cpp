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

TEST_CASE("UTF-8 sequences and hex digits", "[unit][core]") {
  CHECK(rookery::Utf8SequenceLength("a", 0) == 1);
  CHECK(rookery::Utf8SequenceLength("h\xc3\xa9", 1) == 2);
  CHECK(rookery::Utf8SequenceLength("\xe2\x82\xac", 0) == 3);
  CHECK(rookery::Utf8SequenceLength("\xf0\x9f\x98\x80", 0) == 4);
  CHECK(rookery::Utf8SequenceLength("\xc0\xaf", 0) == 0);          // overlong
  CHECK(rookery::Utf8SequenceLength("\xed\xa0\x80", 0) == 0);      // surrogate
  CHECK(rookery::Utf8SequenceLength("\xf4\x90\x80\x80", 0) == 0);  // above U+10FFFF
  CHECK(rookery::Utf8SequenceLength("\xe2\x82", 0) == 0);          // cut short
  CHECK(rookery::HexDigitValue('7') == 7);
  CHECK(rookery::HexDigitValue('b') == 11);
  CHECK(rookery::HexDigitValue('F') == 15);
  CHECK(rookery::HexDigitValue('g') == -1);
}

TEST_CASE("bytes appended as lowercase hex, two digits each", "[unit][core]") {
  std::string out = "x=";
  rookery::AppendHex(out, std::string_view("\x00\x0f\xa5\xff", 4));
  CHECK(out == "x=000fa5ff");
  rookery::AppendHex(out, "");
  CHECK(out == "x=000fa5ff");
}
