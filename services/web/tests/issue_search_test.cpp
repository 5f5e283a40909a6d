#include <catch2/catch.hpp>

#include "issue_search.hpp"

using namespace rookery::web;

namespace {

IssueQuery Parse(std::string_view text) {
  IssueQuery query;
  const std::string error = ParseIssueQuery(text, query);
  INFO(error);
  REQUIRE(error.empty());
  return query;
}

std::string ParseError(std::string_view text) {
  IssueQuery query;
  return ParseIssueQuery(text, query);
}

}  // namespace

TEST_CASE("issue search: keys, negation, free text and quotes", "[unit][web]") {
  const auto query = Parse(R"(is:unresolved !environment:staging level:error "division by zero" culprit_word )"
                           R"(browser:"Chrome 120" url:http://x/y?a=b)");
  REQUIRE(query.terms.size() == 7);
  CHECK(query.terms[0].key == "is");
  CHECK(query.terms[0].value == "unresolved");
  CHECK_FALSE(query.terms[0].negated);
  CHECK(query.terms[1].key == "environment");
  CHECK(query.terms[1].value == "staging");
  CHECK(query.terms[1].negated);
  CHECK(query.terms[2].key == "level");
  CHECK(query.terms[3].key.empty());
  CHECK(query.terms[3].value == "division by zero");
  CHECK(query.terms[4].value == "culprit_word");
  CHECK(query.terms[5].key == "browser");
  CHECK(query.terms[5].value == "Chrome 120");
  CHECK(query.terms[6].key == "url");
  CHECK(query.terms[6].value == "http://x/y?a=b");
}

TEST_CASE("issue search: empty, escaped quotes and refusals", "[unit][web]") {
  CHECK(Parse("").terms.empty());
  CHECK(Parse("   ").terms.empty());
  CHECK(Parse(R"("say \"hi\"")").terms[0].value == "say \"hi\"");
  CHECK(Parse("!bang").terms[0].value == "!bang");  // no key: free text
  CHECK(Parse(":leading").terms[0].value == ":leading");
  CHECK_FALSE(ParseError(R"("unterminated)").empty());
  CHECK_FALSE(ParseError("release:").empty());
  CHECK_FALSE(ParseError(R"(bad;key:1)").empty());
  CHECK_FALSE(ParseError(std::string(2001, 'a')).empty());
  std::string many;
  for (int i = 0; i < 33; ++i) many += "w" + std::to_string(i) + " ";
  CHECK_FALSE(ParseError(many).empty());
}

TEST_CASE("issue search: SQL is fixed fragments, user text only in parameters", "[unit][web]") {
  const auto query = Parse(R"(is:resolved !release:1.0 "50%_off\\" assigned:me has:user level:'; DROP TABLE x)");
  std::string where;
  SqlParams params;
  params.Add("42");  // the project, $1
  REQUIRE(AppendSearchConditions(query, 7, where, params).empty());
  CHECK(where.find("DROP") == std::string::npos);
  CHECK(where.find("50%") == std::string::npos);
  CHECK(where.find(" AND NOT (EXISTS") != std::string::npos);
  CHECK(where.find("i.status = $2") != std::string::npos);
  const auto& values = params.Values();
  REQUIRE(values.size() == 11);
  CHECK(values[1] == "resolved");
  CHECK(values[2] == "release");
  CHECK(values[3] == "1.0");
  CHECK(values[4] == R"(%50\%\_off\\%)");
  CHECK(values[5] == "7");
  CHECK(values[6] == "user");
  CHECK(values[7] == "';");
  CHECK(values[8] == "%DROP%");  // the rest is free text

  IssueQuery unknown;
  REQUIRE(ParseIssueQuery("is:bookmarked", unknown).empty());
  CHECK_FALSE(AppendSearchConditions(unknown, 1, where, params).empty());
}

TEST_CASE("LIKE patterns escape their wildcards", "[unit][web]") {
  CHECK(ContainsPattern("a") == "%a%");
  CHECK(ContainsPattern("100%") == "%100\\%%");
  CHECK(ContainsPattern("snake_case") == "%snake\\_case%");
  CHECK(ContainsPattern("C:\\dir") == "%C:\\\\dir%");
}

TEST_CASE("text PostgreSQL accepts as a parameter", "[unit][web]") {
  CHECK(IsStorableText(""));
  CHECK(IsStorableText("plain"));
  CHECK(IsStorableText("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK_FALSE(IsStorableText(std::string("a\0b", 3)));
  CHECK_FALSE(IsStorableText("\xff"));
  CHECK_FALSE(IsStorableText("\xc3"));              // truncated
  CHECK_FALSE(IsStorableText("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(IsStorableText("\xed\xa0\x80"));      // a surrogate
  CHECK_FALSE(IsStorableText("\xf4\x90\x80\x80"));  // beyond U+10FFFF
  IssueQuery query;
  CHECK_FALSE(ParseIssueQuery("release:\xff", query).empty());
}
