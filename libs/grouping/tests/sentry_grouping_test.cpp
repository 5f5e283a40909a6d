#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "rookery/grouping/sentry_grouping.hpp"
#include "test_support.hpp"

namespace grouping = rookery::grouping;
using grouping::testing::FixtureRules;
using grouping::testing::ParseJson;
using grouping::testing::ReadFile;

namespace {

grouping::SentryGroupingResult Group(const std::string& json, const grouping::ProjectRules& rules = {}) {
  rapidjson::Document event;
  event.Parse(json.c_str());
  REQUIRE_FALSE(event.HasParseError());
  return grouping::ComputeSentryGrouping(event, rules, {.collect_details = true});
}

std::vector<std::string> Hashes(const std::string& json, const grouping::ProjectRules& rules = {}) {
  return Group(json, rules).hashes;
}

const grouping::Variant* FindVariant(const grouping::SentryGroupingResult& result, const std::string& name) {
  for (const auto& variant : result.variants) {
    if (variant.name == name) return &variant;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("hand-derived fixtures in tests/fixtures/grouping", "[unit][grouping][sentry]") {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(ROOKERY_GROUPING_TEST_FIXTURES)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 10);
  for (const auto& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      const rapidjson::Document fixture = ParseJson(ReadFile(file));
      const grouping::ProjectRules rules = FixtureRules(fixture);
      const auto result = grouping::ComputeSentryGrouping(fixture["event"], rules, {.collect_details = true});
      std::vector<std::string> expected;
      for (const auto& hash : fixture["expected"]["hashes"].GetArray()) expected.emplace_back(hash.GetString());
      std::string details;
      for (const auto& variant : result.variants) details += variant.name + ":\n" + variant.tree;
      INFO(details);
      CHECK(result.hashes == expected);
      CHECK(result.config == "newstyle:2023-01-11");
      if (fixture["expected"].HasMember("title")) {
        REQUIRE(result.title.has_value());
        CHECK(*result.title == fixture["expected"]["title"].GetString());
      }
    }
  }
}

TEST_CASE("legacy interface names and shapes group like the modern ones", "[unit][grouping][sentry]") {
  const auto modern = Hashes(R"({"exception": {"values": [{"type": "E", "value": "v"}]}})");
  CHECK(Hashes(R"({"exception": {"type": "E", "value": "v"}})") == modern);
  CHECK(Hashes(R"({"exception": [{"type": "E", "value": "v"}]})") == modern);
  CHECK(Hashes(R"({"sentry.interfaces.Exception": {"type": "E", "value": "v"}})") == modern);
  // Relay splits "Type: value" when the type is missing.
  CHECK(Hashes(R"({"exception": {"values": [{"value": "E: v"}]}})") == modern);

  const auto message = Hashes(R"({"logentry": {"formatted": "disk full"}})");
  CHECK(Hashes(R"({"message": "disk full"})") == message);
  CHECK(Hashes(R"({"sentry.interfaces.Message": {"message": "disk full"}})") == message);
  // The unformatted template wins, so differently formatted messages group together.
  CHECK(Hashes(R"({"logentry": {"message": "user %s not found", "formatted": "user 7 not found", "params": [7]}})") ==
        Hashes(R"({"logentry": {"message": "user %s not found", "formatted": "user 9 not found", "params": [9]}})"));
  // A top-level stack trace with a single exception belongs to that exception.
  CHECK(Hashes(R"({"platform": "python", "exception": {"values": [{"type": "E"}]},
                   "stacktrace": {"frames": [{"function": "f", "module": "m", "in_app": true}]}})") ==
        Hashes(R"({"platform": "python", "exception": {"values": [{"type": "E",
                   "stacktrace": {"frames": [{"function": "f", "module": "m", "in_app": true}]}}]}})"));
}

TEST_CASE("a message's event-specific values do not split issues", "[unit][grouping][sentry]") {
  CHECK(Hashes(R"({"message": "order 1234 failed for bob@example.com"})") ==
        Hashes(R"({"message": "order 98 failed for alice@example.org"})"));
  CHECK(Hashes(R"({"message": "order 1234 failed"})") != Hashes(R"({"message": "order 1234 crashed"})"));
  // Exception values are parameterized too, when there is no stack trace to group on.
  CHECK(Hashes(R"({"exception": {"values": [{"type": "E", "value": "id 5 missing"}]}})") ==
        Hashes(R"({"exception": {"values": [{"type": "E", "value": "id 6 missing"}]}})"));
}

TEST_CASE("exception values yield to stack traces and ns_error", "[unit][grouping][sentry]") {
  const auto with_frames = [](const std::string& value) {
    return Hashes(R"({"platform": "python", "exception": {"values": [{"type": "E", "value": ")" + value +
                  R"(", "stacktrace": {"frames": [{"function": "f", "module": "m", "in_app": true}]}}]}})");
  };
  CHECK(with_frames("first") == with_frames("second"));
  const auto result = Group(R"({"platform": "cocoa", "exception": {"values": [{"type": "NSError", "value": "x 1",
      "mechanism": {"type": "NSError", "meta": {"ns_error": {"code": 42, "domain": "NSURLErrorDomain"}}}}]}})");
  REQUIRE(result.hashes.size() == 1);
  CHECK(result.hashes[0] == "82604dd5eafe92f3b23f61726e4477f6");  // md5('NSError' 'NSURLErrorDomain' '42')
}

TEST_CASE("fingerprint variables resolve from the event", "[unit][grouping][sentry]") {
  const auto result = Group(R"({
    "platform": "python", "level": "warning", "logger": "jobs", "transaction": "/t",
    "tags": {"region": "eu"},
    "fingerprint": ["{{ type }}", "{{function}}", "{{ module }}", "{{ tags.region }}", "{{ level }}",
                    "{{ logger }}", "{{ tags.missing }}", "{{ unknown }}", "{{ stack.filename }}", 7, true],
    "exception": {"values": [{"type": "Boom", "value": "v", "stacktrace": {"frames": [
      {"function": "outer", "module": "a", "filename": "a.py", "in_app": true},
      {"function": "inner", "module": "b", "filename": "b.py", "in_app": false}]}}]}})");
  const auto* custom = FindVariant(result, "custom_fingerprint");
  REQUIRE(custom != nullptr);
  // The crash frame is the newest in-app one; unknown variables stay literal in this config.
  CHECK(custom->values == std::vector<std::string>{"Boom", "outer", "a", "eu", "warning", "jobs",
                                                   "<no-value-for-tag-missing>", "{{ unknown }}", "a.py", "7", "True"});
  CHECK(result.hashes.size() == 1);
  CHECK(FindVariant(result, "app")->hint == "custom fingerprint takes precedence");
}

TEST_CASE("Sentry's built-in JavaScript fingerprint rules apply after the project's", "[unit][grouping][sentry]") {
  const std::string chunk_error =
      R"({"platform": "javascript", "exception": {"values": [{"type": "ChunkLoadError", "value": "Loading chunk 7 failed"}]}})";
  const auto result = Group(chunk_error);
  REQUIRE(FindVariant(result, "built_in_fingerprint") != nullptr);
  CHECK(result.hashes == std::vector<std::string>{"5d731dcf8ecc4f042eeacf528d8d8da9"});  // md5('chunkloaderror')
  // A project rule matching first takes precedence.
  auto rules = grouping::ParseFingerprintRules("type:ChunkLoadError -> mine");
  REQUIRE(rules.has_value());
  const auto project = Group(chunk_error, {*rules, {}});
  CHECK(FindVariant(project, "custom_fingerprint") != nullptr);
  // Not for other platforms.
  CHECK(FindVariant(Group(R"({"platform": "python", "exception": {"values": [{"type": "ChunkLoadError"}]}})"),
                    "built_in_fingerprint") == nullptr);
}

TEST_CASE("max-frames and min-frames stack-trace rules", "[unit][grouping][sentry]") {
  const std::string event = R"({"platform": "python", "exception": {"values": [{"type": "E", "stacktrace": {"frames": [
      {"function": "a", "module": "m1", "in_app": true},
      {"function": "b", "module": "m2", "in_app": true},
      {"function": "c", "module": "m3", "in_app": true}]}}]}})";
  auto max_frames = grouping::ParseStacktraceRules("family:other max-frames=1");
  REQUIRE(max_frames.has_value());
  const auto limited = Group(event, {{}, *max_frames});
  REQUIRE(FindVariant(limited, "app") != nullptr);
  CHECK(FindVariant(limited, "app")->values == std::vector<std::string>{"m3", "c", "E"});

  auto min_frames = grouping::ParseStacktraceRules("family:other min-frames=5");
  REQUIRE(min_frames.has_value());
  // Too few frames: the stack trace is ignored and the exception's type (and value) group.
  const auto few = Group(event, {{}, *min_frames});
  CHECK(FindVariant(few, "app")->values == std::vector<std::string>{"E"});
}

TEST_CASE("stack-trace rule matching: case and invalid patterns", "[unit][grouping][sentry]") {
  const std::string event = R"({"platform": "python", "exception": {"values": [{"type": "E", "stacktrace": {"frames": [
      {"function": "Handle", "module": "m1", "abs_path": "/SRV/App/x.py", "in_app": true},
      {"function": "run", "module": "m2", "in_app": true}]}}]}})";
  const auto app_values = [&](std::string_view text) {
    auto rules = grouping::ParseStacktraceRules(text);
    REQUIRE(rules.has_value());
    return FindVariant(Group(event, {{}, *rules}), "app")->values;
  };
  const std::vector<std::string> all{"m1", "Handle", "m2", "run", "E"};
  const std::vector<std::string> without_first{"m2", "run", "E"};
  // Functions and modules are case-sensitive, paths are not.
  CHECK(app_values("function:handle -group") == all);
  CHECK(app_values("function:Handle -group") == without_first);
  CHECK(app_values("path:/srv/app/** -group") == without_first);
  // Never-matching matchers: an invalid glob, a non-boolean app value; negated they match.
  CHECK(app_values("function:[abc -group") == all);
  CHECK(app_values("app:maybe -group") == all);
  CHECK(app_values("!function:[abc function:Handle -group") == without_first);
}

TEST_CASE("caller and callee matchers", "[unit][grouping][sentry]") {
  const std::string event = R"({"platform": "python", "exception": {"values": [{"type": "E", "stacktrace": {"frames": [
      {"function": "outer", "module": "a", "in_app": true},
      {"function": "middle", "module": "b", "in_app": true},
      {"function": "inner", "module": "c", "in_app": true}]}}]}})";
  // Stack-trace rules: the caller is the previous (older) frame, the callee the next one.
  auto rules = grouping::ParseStacktraceRules("[ function:outer ] | function:middle | [ function:inner ] -group");
  REQUIRE(rules.has_value());
  CHECK(FindVariant(Group(event, {{}, *rules}), "app")->values ==
        std::vector<std::string>{"a", "outer", "c", "inner", "E"});
  // Ranges: `^` reaches every frame towards the crash, `v` every frame before.
  rules = grouping::ParseStacktraceRules("function:middle ^-group");
  REQUIRE(rules.has_value());
  CHECK(FindVariant(Group(event, {{}, *rules}), "app")->values ==
        std::vector<std::string>{"a", "outer", "b", "middle", "E"});

  // Fingerprinting rules look for a frame with all frame matchers; Sentry's sibling matchers
  // call the *next* frame the caller.
  auto fingerprints = grouping::ParseFingerprintRules(
      "function:middle module:b -> both\n[ function:inner ] | function:middle -> sibling\n");
  REQUIRE(fingerprints.has_value());
  CHECK(FindVariant(Group(event, {*fingerprints, {}}), "custom_fingerprint")->values ==
        std::vector<std::string>{"both"});
  fingerprints = grouping::ParseFingerprintRules("[ function:inner ] | function:middle -> sibling\n");
  REQUIRE(fingerprints.has_value());
  CHECK(FindVariant(Group(event, {*fingerprints, {}}), "custom_fingerprint")->values ==
        std::vector<std::string>{"sibling"});
  fingerprints = grouping::ParseFingerprintRules("function:middle module:c -> none\n");
  REQUIRE(fingerprints.has_value());
  CHECK(FindVariant(Group(event, {*fingerprints, {}}), "custom_fingerprint") == nullptr);
}

TEST_CASE("pathological messages stay fast", "[unit][grouping][sentry]") {
  std::string dots;
  while (dots.size() < 8000) dots += "a.";
  const std::string events[] = {
      R"({"message": ")" + dots + R"("})",
      R"({"message": ")" + std::string(8000, 'a') + R"(@"})",
  };
  for (const auto& json : events) {
    const auto start = std::chrono::steady_clock::now();
    CHECK(Hashes(json).size() == 1);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  }
}

TEST_CASE("a JavaScript hydration error gets Sentry's built-in fingerprint", "[unit][grouping][sentry]") {
  const auto result = Group(R"({"platform": "javascript", "transaction": "/checkout", "exception": {"values": [
      {"type": "Error", "value": "Text content does not match server-rendered HTML."}]}})");
  REQUIRE(FindVariant(result, "built_in_fingerprint") != nullptr);
  CHECK(FindVariant(result, "built_in_fingerprint")->values == std::vector<std::string>{"hydrationerror", "/checkout"});
}

TEST_CASE("threads group by the crashed thread when there is no exception", "[unit][grouping][sentry]") {
  const auto result = Group(R"({"platform": "native", "threads": {"values": [
      {"id": 1, "crashed": false, "stacktrace": {"frames": [{"function": "idle", "in_app": true}]}},
      {"id": 2, "crashed": true, "stacktrace": {"frames": [{"function": "main", "package": "/usr/lib/libc.so", "in_app": false},
                                                       {"function": "crash_here", "in_app": true}]}}]}})");
  REQUIRE(FindVariant(result, "app") != nullptr);
  CHECK(FindVariant(result, "app")->values == std::vector<std::string>{"crash_here"});
  CHECK(FindVariant(result, "app")->description == "in-app thread stack-trace");
}

TEST_CASE("recursion, lineno and Java code generation do not split issues", "[unit][grouping][sentry]") {
  const auto frames = [](const std::string& extra) {
    return Hashes(R"({"platform": "java", "exception": {"values": [{"type": "E", "stacktrace": {"frames": [)" + extra +
                  R"({"function": "run", "module": "com.acme.Job", "lineno": 3, "in_app": true}]}}]}})");
  };
  CHECK(frames("") == frames(R"({"function": "run", "module": "com.acme.Job", "lineno": 3, "in_app": true},)"));
  CHECK(Hashes(R"({"platform": "java", "exception": {"values": [{"type": "E", "stacktrace": {"frames": [
      {"function": "call", "module": "com.acme.Svc$$EnhancerBySpringCGLIB$$1a2b3c", "in_app": true}]}}]}})") ==
        Hashes(R"({"platform": "java", "exception": {"values": [{"type": "E", "stacktrace": {"frames": [
      {"function": "call", "module": "com.acme.Svc$$EnhancerBySpringCGLIB$$ffee99", "in_app": true}]}}]}})"));
}

TEST_CASE("native function names are trimmed before grouping", "[unit][grouping][sentry]") {
  const auto values = [](const std::string& function) {
    const auto result = Group(R"({"platform": "native", "exception": {"values": [{"type": "SIGSEGV",
        "stacktrace": {"frames": [{"function": ")" +
                              function + R"(", "in_app": true}]}}]}})");
    return FindVariant(result, "app")->values;
  };
  CHECK(values("std::vector<int> ns::Parser::parse(char const*, unsigned long) const") ==
        std::vector<std::string>{"ns::Parser::parse", "SIGSEGV"});
  CHECK(values("my_crate::module::func::h0123456789abcdef") ==
        std::vector<std::string>{"my_crate::module::func", "SIGSEGV"});
}

TEST_CASE("ComputeSentryGrouping throughput on a 20-frame Python event", "[.][bench]") {
  std::string frames;
  for (int i = 0; i < 20; ++i) {
    const bool library = i < 8;
    const std::string n = std::to_string(i);
    if (i > 0) frames += ",";
    frames += R"j({"function": "handler_)j" + n + R"j(", "module": ")j" +
              (library ? std::string("django.core.handlers.base") : "shop.views.module" + n) +
              R"j(", "filename": "shop/views.py", "abs_path": ")j" +
              (library ? "/usr/lib/python3.11/site-packages/django/core/handlers/base.py" : "/srv/shop/views.py") +
              R"j(", "lineno": )j" + std::to_string(10 + i) +
              R"j(, "context_line": "    result = call_next(request, arg_)j" + n +
              R"j()", "pre_context": ["a", "b"], "post_context": ["c"], "vars": {"x": "1"}, "in_app": )j" +
              (library ? "false" : "true") + "}";
  }
  const std::string json = R"({"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "platform": "python", "level": "error",
      "sdk": {"name": "sentry.python", "version": "1.40.0"}, "tags": {"env": "prod"},
      "exception": {"values": [{"type": "ValueError", "value": "invalid literal for int() with base 10: 'x'",
      "module": "builtins", "mechanism": {"type": "generic", "handled": false},
      "stacktrace": {"frames": [)" +
                           frames + "]}}]}}";
  rapidjson::Document event;
  event.Parse(json.c_str());
  REQUIRE_FALSE(event.HasParseError());
  const grouping::ProjectRules rules;
  constexpr int kIterations = 20000;
  std::size_t sink = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIterations; ++i) sink += grouping::ComputeSentryGrouping(event, rules).hashes.size();
  const auto elapsed = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  WARN("ComputeSentryGrouping: " << elapsed / kIterations << " us/event (20 frames, parsed JSON)");
  CHECK(sink == 2 * kIterations);
}
