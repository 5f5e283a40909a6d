#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "enhancements.hpp"
#include "rookery/grouping/sentry_grouping.hpp"

namespace grouping = rookery::grouping;
using Action = grouping::StacktraceAction;

TEST_CASE("fingerprinting rules: valid syntax", "[unit][grouping][rules]") {
  const auto rules = grouping::ParseFingerprintRules(R"(# a comment line

error.type:"ConnectionError" message:"*timed out*" -> connection-timeout, {{ transaction }}
  !logger:"noisy.*" tags.region:eu -> "eu errors" title="Errors in {{ tags.region }}"
"stack.function":handle_* -> {{default}}, handlers   # trailing text is just more values
[ function:caller ] | function:target | [ function:callee ] -> siblings
)");
  REQUIRE(rules.has_value());
  REQUIRE(rules->size() == 4);

  const auto& first = (*rules)[0];
  REQUIRE(first.Matchers().size() == 2);
  CHECK(first.Matchers()[0].key == "type");  // canonicalized alias
  CHECK(first.Matchers()[0].pattern == "ConnectionError");
  CHECK(first.Matchers()[1].key == "message");
  CHECK(first.Fingerprint() == std::vector<std::string>{"connection-timeout", "{{ transaction }}"});
  CHECK_FALSE(first.Title().has_value());
  CHECK(first.Text() == R"(type:"ConnectionError" message:"*timed out*" -> "connection-timeout{{ transaction }}")");

  const auto& second = (*rules)[1];
  CHECK(second.Matchers()[0].negated);
  CHECK(second.Matchers()[0].key == "logger");
  CHECK(second.Matchers()[1].key == "tags.region");
  CHECK(second.Fingerprint() == std::vector<std::string>{"eu errors"});
  REQUIRE(second.Title().has_value());
  CHECK(*second.Title() == "Errors in {{ tags.region }}");

  const auto& third = (*rules)[2];
  CHECK(third.Matchers()[0].key == "function");
  CHECK(third.Fingerprint() ==
        std::vector<std::string>{"{{ default }}", "handlers", "#", "trailing", "text", "is", "just", "more", "values"});

  const auto& fourth = (*rules)[3];
  REQUIRE(fourth.Matchers().size() == 3);
  CHECK(fourth.Matchers()[0].offset == grouping::FrameOffset::kCaller);
  CHECK(fourth.Matchers()[1].offset == grouping::FrameOffset::kSelf);
  CHECK(fourth.Matchers()[2].offset == grouping::FrameOffset::kCallee);

  CHECK(grouping::ParseFingerprintRules("")->empty());
  CHECK(grouping::ParseFingerprintRules("\n  \n# only comments\n")->empty());
  // Escapes in quoted values follow Python's string rules.
  const auto escaped = grouping::ParseFingerprintRules(R"(message:"say \"hi\"\tnow" -> x)");
  REQUIRE(escaped.has_value());
  CHECK((*escaped)[0].Matchers()[0].pattern == "say \"hi\"\tnow");
}

TEST_CASE("fingerprinting rules: malformed input is an error, not an exception", "[unit][grouping][rules]") {
  const auto error_of = [](std::string_view text) {
    const auto parsed = grouping::ParseFingerprintRules(text);
    REQUIRE_FALSE(parsed.has_value());
    return parsed.error();
  };
  CHECK(error_of("type:Foo bar") == R"(Invalid syntax near "type:Foo bar" (line 1, column 1))");
  CHECK(error_of("type:Foo ->") == R"(Invalid syntax near "type:Foo ->" (line 1, column 1))");
  CHECK(error_of("type:1 -> a\n\ntype: -> x").find("line 3") != std::string::npos);
  CHECK(error_of("color:red -> x") == "Unknown matcher 'color'");
  CHECK(error_of("type:Foo -> a colour=\"red\"") == "Unknown attribute 'colour'");
  // An unterminated quote is not an error in Sentry's grammar: the argument is taken unquoted.
  const auto unterminated = grouping::ParseFingerprintRules("type:\"Foo -> x");
  REQUIRE(unterminated.has_value());
  CHECK((*unterminated)[0].Matchers()[0].pattern == "\"Foo");
  // Only spaces separate tokens.
  CHECK_FALSE(grouping::ParseFingerprintRules("type:Foo\t-> x").has_value());
  CHECK_FALSE(
      grouping::FingerprintRule::Create({{"nope", "x", false, grouping::FrameOffset::kSelf}}, {"a"}).has_value());
  CHECK_FALSE(grouping::FingerprintRule::Create({}, {"a"}).has_value());
}

TEST_CASE("fingerprinting rules: Sentry's JSON form", "[unit][grouping][rules]") {
  rapidjson::Document json;
  json.Parse(R"([{"matchers": [["type", "DatabaseError"], ["!value", "*retry*"]],
                  "fingerprint": ["db", "{{ default }}"], "attributes": {"title": "Database"}}])");
  const auto rules = grouping::FingerprintRulesFromJson(json);
  REQUIRE(rules.has_value());
  REQUIRE(rules->size() == 1);
  CHECK((*rules)[0].Matchers()[1].negated);
  CHECK((*rules)[0].Matchers()[1].key == "value");
  CHECK((*rules)[0].Title() == std::optional<std::string>("Database"));

  rapidjson::Document bad;
  bad.Parse(R"([{"matchers": [["type"]], "fingerprint": ["x"]}])");
  CHECK_FALSE(grouping::FingerprintRulesFromJson(bad).has_value());
  bad.Parse(R"({"matchers": []})");
  CHECK_FALSE(grouping::FingerprintRulesFromJson(bad).has_value());
  bad.Parse(R"([{"matchers": [["colour", "red"]], "fingerprint": ["x"]}])");
  CHECK_FALSE(grouping::FingerprintRulesFromJson(bad).has_value());
}

TEST_CASE("stack-trace rules: valid syntax", "[unit][grouping][rules]") {
  const auto rules = grouping::ParseStacktraceRules(R"(# vendored code
path:**/vendor/**        -app
family:native function:std::* -group ^-app
stack.module:"my app.*" !app:yes v+group category=internals
[ category:driver ] | category:driver | [ function:x ] category=internals
error.type:Panic max-frames=3 min-frames=1
function:"*::\\{dtor\\}" +group  # a trailing comment
)");
  REQUIRE(rules.has_value());
  REQUIRE(rules->size() == 6);

  CHECK((*rules)[0].Text() == "path:**/vendor/** -app");
  REQUIRE((*rules)[0].Actions().size() == 1);
  CHECK((*rules)[0].Actions()[0].kind == Action::Kind::kApp);
  CHECK_FALSE((*rules)[0].Actions()[0].flag);

  const auto& second = (*rules)[1];
  CHECK(second.Text() == "family:native function:std::* -group ^-app");
  CHECK(second.Actions()[1].range == Action::Range::kUp);

  const auto& third = (*rules)[2];
  CHECK(third.Matchers()[0].key == "module");
  CHECK(third.Matchers()[0].pattern == "my app.*");
  CHECK(third.Matchers()[1].negated);
  CHECK(third.Actions()[0].range == Action::Range::kDown);
  CHECK(third.Actions()[0].kind == Action::Kind::kGroup);
  CHECK(third.Actions()[1].kind == Action::Kind::kCategory);
  CHECK(third.Actions()[1].category == "internals");

  CHECK((*rules)[3].Text() == "[category:driver] | category:driver | [function:x] category=internals");
  CHECK((*rules)[4].Text() == "type:Panic max-frames=3 min-frames=1");
  CHECK((*rules)[4].Actions()[0].value == 3);
  CHECK((*rules)[5].Matchers()[0].pattern == R"(*::\{dtor\})");
}

TEST_CASE("stack-trace rules: malformed input is an error", "[unit][grouping][rules]") {
  const auto error_of = [](std::string_view text) {
    const auto parsed = grouping::ParseStacktraceRules(text);
    REQUIRE_FALSE(parsed.has_value());
    return parsed.error();
  };
  CHECK(error_of("path:**/vendor/**") == R"(Invalid syntax near "path:**/vendor/**" (line 1, column 1))");
  CHECK(error_of("module:foo +application").find("Invalid syntax") == 0);
  CHECK(error_of("frame:foo -app") == "Unknown matcher 'frame'");
  CHECK(error_of("function:foo max-frames=lots") == "Invalid value for max-frames: 'lots'");
  CHECK(error_of("function:foo\t-group").find("Invalid syntax") == 0);
  CHECK(error_of("-app").find("Invalid syntax") == 0);
  // The filename matcher exists only in Sentry's built-in base, not in the project rule grammar.
  CHECK(error_of("stack.filename:foo.js -app") == "Unknown matcher 'stack.filename'");
  CHECK(error_of("ok:1 -app").find("Unknown matcher") == 0);
}

TEST_CASE("stack-trace rules: odd values Sentry accepts", "[unit][grouping][rules]") {
  // Sentry accepts a non-boolean `app:` and patterns that are not valid globs; such matchers
  // never match (see the grouping tests).
  CHECK(grouping::ParseStacktraceRules("app:maybe -group").has_value());
  CHECK(grouping::ParseStacktraceRules("function:[abc -group").has_value());
  CHECK(grouping::ParseStacktraceRules("function:{a,b -group").has_value());
}

TEST_CASE("the built-in stack-trace rules compile", "[unit][grouping][rules]") {
  const auto& base = grouping::detail::BaseStacktraceRules();
  CHECK(base.size() == 331);
  CHECK(base.front().Text() == "family:native package:/var/containers/Bundle/Application/** +app");
  CHECK(base.back().Text() == "path:**/*LogRocket*/** -app -group");
}
