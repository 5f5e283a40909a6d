#include <catch2/catch.hpp>

#include <string>

#include "function_names.hpp"
#include "glob.hpp"
#include "parameterize.hpp"
#include "py_regex.hpp"

using rookery::grouping::detail::Glob;
using rookery::grouping::detail::GlobOptions;
using rookery::grouping::detail::NormalizeMessageForGrouping;
using rookery::grouping::detail::ParameterizeMessage;
using rookery::grouping::detail::PyRegex;
using rookery::grouping::detail::TrimFunctionName;

namespace {

bool PathGlob(std::string_view pattern, std::string_view value) {
  GlobOptions options;
  options.case_insensitive = true;
  options.literal_separator = true;
  options.path_normalize = true;
  auto glob = Glob::Compile(pattern, options);
  REQUIRE(glob.has_value());
  return glob->Matches(value);
}

bool PlainGlob(std::string_view pattern, std::string_view value) {
  auto glob = Glob::Compile(pattern, GlobOptions{});
  REQUIRE(glob.has_value());
  return glob->Matches(value);
}

}  // namespace

TEST_CASE("globs follow globset semantics", "[unit][grouping][glob]") {
  // `**` between separators crosses directories, `*` does not in path mode.
  CHECK(PathGlob("**/site-packages/**", "/usr/lib/python3/site-packages/django/base.py"));
  CHECK(PathGlob("**/site-packages/**", "site-packages/x.py"));
  CHECK_FALSE(PathGlob("**/site-packages/**", "/usr/lib/site-packagesx/x.py"));
  CHECK(PathGlob("a/**/b", "a/b"));
  CHECK(PathGlob("a/**/b", "a/x/y/b"));
  CHECK(PathGlob("foo/**", "foo/a/b"));
  CHECK_FALSE(PathGlob("foo/**", "foo"));
  CHECK_FALSE(PathGlob("*.py", "foo/hello.py"));
  CHECK(PlainGlob("*.py", "foo/hello.py"));
  CHECK(PathGlob("**", "anything/at/all"));
  // `**` glued to other characters is two plain stars.
  CHECK_FALSE(PathGlob("webpack:**", "webpack:///src/app.js"));
  CHECK(PathGlob("webpack:**", "webpack:app.js"));
  // Case folding, backslashes as separators, classes, alternates and escapes.
  CHECK(PathGlob("**/Vendor/**", "C:\\Code\\vendor\\lib.dll"));
  CHECK_FALSE(PlainGlob("Foo*", "foo"));
  CHECK(PlainGlob("?[[]KSCrash*", "-[KSCrashInstallation install]"));
  CHECK(PlainGlob("[!a]bc", "xbc"));
  CHECK_FALSE(PlainGlob("[!a]bc", "abc"));
  CHECK(PlainGlob("{foo,bar}.js", "bar.js"));
  CHECK_FALSE(PlainGlob("{foo,bar}.js", "baz.js"));
  CHECK(PlainGlob(R"(*::\{dtor\})", "ns::Type::{dtor}"));
  CHECK(PlainGlob("", ""));
  CHECK_FALSE(PlainGlob("", "x"));
  // Many stars stay fast thanks to memoization.
  CHECK_FALSE(PlainGlob("*a*a*a*a*a*a*a*a*b", std::string(2000, 'a')));

  CHECK_FALSE(Glob::Compile("[abc", GlobOptions{}).has_value());
  CHECK_FALSE(Glob::Compile("{a,b", GlobOptions{}).has_value());
  CHECK_FALSE(Glob::Compile("a}", GlobOptions{}).has_value());
  CHECK_FALSE(Glob::Compile("trailing\\", GlobOptions{}).has_value());
}

TEST_CASE("the Python-semantics regex engine", "[unit][grouping][regex]") {
  const auto match = [](std::string_view pattern, std::string_view text, std::size_t pos = 0) {
    auto regex = PyRegex::Compile(pattern);
    REQUIRE(regex.has_value());
    return regex->MatchAt(text, pos);
  };
  // Ordered alternation: the first alternative that matches wins, not the longest.
  CHECK(match("a|ab", "ab") == std::optional<std::size_t>(1));
  CHECK(match("(?:\\d+ms)|(\\d+s)", "250ms") == std::optional<std::size_t>(5));
  CHECK(match("a.*?b", "axxbyyb") == std::optional<std::size_t>(4));
  CHECK(match("a.*b", "axxbyyb") == std::optional<std::size_t>(7));
  CHECK(match("(?<==)x", "=x", 1) == std::optional<std::size_t>(2));
  CHECK_FALSE(match("(?<==)x", "-x", 1).has_value());
  CHECK(match("\\b\\d+\\b", "x 12", 2) == std::optional<std::size_t>(4));
  CHECK_FALSE(match("\\b\\d+\\b", "x12", 1).has_value());
  // Unicode letters are word characters; typographic punctuation is not.
  CHECK_FALSE(match("\\b\\d+", "é12", 2).has_value());
  CHECK(match("\\b\\d+", "\u201c12", 3) == std::optional<std::size_t>(5));
  CHECK(match("(?x) a  b # comment\n c", "abc") == std::optional<std::size_t>(3));
  CHECK(match("x{2,3}", "xxxx") == std::optional<std::size_t>(3));
  CHECK(match("[^\\s]*", "ab cd") == std::optional<std::size_t>(2));
  CHECK_FALSE(PyRegex::Compile("(?<=a+)b").has_value());
  CHECK_FALSE(PyRegex::Compile("(abc").has_value());
}

TEST_CASE("message parameterization", "[unit][grouping][parameterize]") {
  const std::pair<std::string, std::string> cases[] = {
      {"blah test@email.com had a problem", "blah <email> had a problem"},
      {"blah http://some.email.com/x?y=1 had a problem", "blah <url> had a problem"},
      {"connect to sentry.io failed", "connect to <hostname> failed"},
      {"from 192.168.0.1 port", "from <ip> port"},
      {"id 7c1811ed-e98f-4c9c-a9f9-58c757ff494f gone", "id <uuid> gone"},
      {"sha 5fc35719b9cf96ec602dbc748ff31c587a46961d", "sha <sha1>"},
      {"md5 3c1c3f1f2a1b4ce7a8d2b1c4d5e6f708 end", "md5 <md5> end"},
      {"on 2024-01-02 at 12:30pm and 12:30 pm", "on <date> at <date> and <date> pm"},
      {"started 2023-05-02T23:46:00.123Z", "started <date>"},
      {"at Mon, 02 Jan 2006 15:04:05 MST ok", "at <date> ok"},
      {"took 250ms and 1.5s", "took <duration> and <duration>"},
      {"segfault at 0x7fff5bf3456c", "segfault at <hex>"},
      {"ratio 0.75 and -2.5", "ratio <float> and <float>"},
      {"8 items, -3 left, key2=123456789", "<int> items, <int> left, key2=<int>"},
      {"name='bob' title=\"Dr X\" on=true off=False", "name=<quoted_str> title=<quoted_str> on=<bool> off=<bool>"},
      {"at datetime.datetime(2023, 5, 2, 23, 46) then", "at <date> then"},
      {"nothing to replace here", "nothing to replace here"},
      {"", ""},
  };
  for (const auto& [input, expected] : cases) {
    INFO(input);
    CHECK(ParameterizeMessage(input) == expected);
  }
}

TEST_CASE("messages are trimmed to two non-empty lines", "[unit][grouping][parameterize]") {
  CHECK(NormalizeMessageForGrouping("single line") == "single line");
  CHECK(NormalizeMessageForGrouping("first\n\n  second\nthird") == "first\n  second...");
  CHECK(NormalizeMessageForGrouping("first\r\nsecond") == "first\nsecond...");
  CHECK(NormalizeMessageForGrouping("only\n") == "only...");
  CHECK(NormalizeMessageForGrouping("   ") == "...");
  CHECK(NormalizeMessageForGrouping("") == "");
}

TEST_CASE("native and C# function names are trimmed like Sentry does", "[unit][grouping][functions]") {
  CHECK(TrimFunctionName("std::vector<int> ns::Parser::parse(char const*, unsigned long) const", "native") ==
        "ns::Parser::parse");
  CHECK(TrimFunctionName("<lambda_5db80dab47756d3e72c2dcd38b80b1dd>::operator()", "native") == "<lambda>::operator()");
  CHECK(TrimFunctionName("Scaleform::GFx::AS3::IMEManager::DispatchEvent(char const *,char const *)", "native") ==
        "Scaleform::GFx::AS3::IMEManager::DispatchEvent");
  CHECK(TrimFunctionName("void foo::bar<int>(int)", "c") == "foo::bar<T>");
  CHECK(TrimFunctionName("-[UIApplication sendEvent:]", "cocoa") == "-[UIApplication sendEvent:]");
  CHECK(TrimFunctionName("my_crate::module::func::h0123456789abcdef", "native") == "my_crate::module::func");
  CHECK(TrimFunctionName("memcpy@@GLIBC_2.2.5", "native") == "memcpy");
  CHECK(TrimFunctionName("_callback@12", "native") == "_callback");
  CHECK(TrimFunctionName("foo() [clone .cold.1]", "native") == "foo");
  CHECK(TrimFunctionName("<redacted>", "native") == "<redacted>");
  CHECK(TrimFunctionName("Game.Player.Move (System.Single dt)", "csharp") == "Game.Player.Move");
  CHECK(TrimFunctionName("handler(request)", "python") == "handler(request)");
}
