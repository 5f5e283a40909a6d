#include <catch2/catch.hpp>

#include "pagination.hpp"

using namespace rookery::web;

TEST_CASE("cursors round-trip and are opaque", "[unit][web]") {
  for (const Cursor& cursor : {Cursor{1700000000123456, "42", false}, Cursor{0, "", true},
                               Cursor{-5, "a:b:c \"quoted\" ü", true}, Cursor{7, "0123456789abcdef0123456789abcdef"}}) {
    const std::string text = EncodeCursor(cursor);
    CHECK(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    CHECK(EncodeCursor(cursor) == text);  // stable
    const auto decoded = DecodeCursor(text);
    REQUIRE(decoded);
    CHECK(decoded->value == cursor.value);
    CHECK(decoded->key == cursor.key);
    CHECK(decoded->backward == cursor.backward);
  }
}

TEST_CASE("cursors that were not made here are refused", "[unit][web]") {
  CHECK_FALSE(DecodeCursor(""));
  CHECK_FALSE(DecodeCursor("0:0:1"));  // Sentry's own format
  CHECK_FALSE(DecodeCursor("!!!!"));
  CHECK_FALSE(DecodeCursor(EncodeCursor({1, "x", false}).substr(0, 2)));
  CHECK_FALSE(DecodeCursor(std::string(2000, 'A')));
  CHECK_FALSE(DecodeCursor(EncodeCursor({1, "\xff", false})));  // not text PostgreSQL would take
}

TEST_CASE("query parameters, repeated ids and limits", "[unit][web]") {
  const std::string target = "/api/0/projects/a/b/issues/?id=1&id=2&query=is%3Aresolved+foo&limit=5&flag";
  CHECK(QueryValues(target, "id") == std::vector<std::string>{"1", "2"});
  CHECK(QueryValues(target, "query") == std::vector<std::string>{"is:resolved foo"});
  CHECK(HasQueryParam(target, "flag"));
  CHECK_FALSE(HasQueryParam(target, "cursor"));
  CHECK(ParseLimit(target, 100, 100) == 5);
  CHECK(ParseLimit("/x", 100, 100) == 100);
  CHECK_FALSE(ParseLimit("/x?limit=0", 100, 100));
  CHECK_FALSE(ParseLimit("/x?limit=101", 100, 100));
  CHECK_FALSE(ParseLimit("/x?limit=ten", 100, 100));
}

TEST_CASE("Link header as Sentry sends it", "[unit][web]") {
  const Cursor next{10, "3", false};
  const auto links = LinksForPage(std::nullopt, true, Cursor{20, "9", false}, next);
  CHECK_FALSE(links.previous_has_results);
  CHECK(links.next_has_results);
  const std::string header = LinkHeader("http://h", "/api/0/issues/1/events/?limit=2&cursor=old", links);
  const std::string encoded = EncodeCursor(next);
  CHECK(header.find("<http://h/api/0/issues/1/events/?limit=2&cursor=") == 0);
  CHECK(header.find("rel=\"previous\"; results=\"false\"") != std::string::npos);
  CHECK(header.find("rel=\"next\"; results=\"true\"; cursor=\"" + encoded + "\"") != std::string::npos);
  CHECK(header.find("old") == std::string::npos);

  const auto last_page = LinksForPage(next, false, Cursor{5, "2", false}, Cursor{4, "1", false});
  CHECK(last_page.previous_has_results);
  CHECK(last_page.previous.backward);
  CHECK(last_page.previous.key == "2");
  CHECK_FALSE(last_page.next_has_results);
}
