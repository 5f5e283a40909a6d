#include <catch2/catch.hpp>

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
using grouping::testing::Rules;

namespace {

void SetString(rapidjson::Document& event, rapidjson::Value& object, const char* key, const std::string& value) {
  if (!object.IsObject()) return;
  auto& alloc = event.GetAllocator();
  if (object.HasMember(key)) {
    object[key].SetString(value.c_str(), alloc);
  } else {
    object.AddMember(rapidjson::Value(key, alloc), rapidjson::Value(value.c_str(), alloc), alloc);
  }
}

// Each exception object of the event, in any of the shapes SDKs send (`{"values": [...]}`, a list).
template <class F>
void ForEachException(rapidjson::Document& event, F&& visit) {
  if (!event.HasMember("exception")) return;
  rapidjson::Value& exception = event["exception"];
  rapidjson::Value* values = &exception;
  if (exception.IsObject() && exception.HasMember("values")) values = &exception["values"];
  if (!values->IsArray()) return;
  for (auto& item : values->GetArray()) {
    if (item.IsObject()) visit(item);
  }
}

// What the worker keeps of a result: it must be the same through the memo as computed afresh.
std::string Summary(const grouping::SentryGroupingResult& result) {
  std::string out = result.config + "|";
  for (const auto& hash : result.hashes) out += hash + ",";
  out += "|" + result.title.value_or("<no title>") + "|" + result.matched_rule.value_or("<no rule>");
  return out;
}

// Gives every field the memo leaves out of its key (the watched ones) a new value `n`, as the next
// event of the same issue would: exception values, log message, tags, transaction, ...
void ChangeWatchedFields(rapidjson::Document& event, int n) {
  auto& alloc = event.GetAllocator();
  const std::string text = "changed " + std::to_string(n) + " for user " + std::to_string(1000 + n);
  const auto set = [&](rapidjson::Value& object, const char* key, const std::string& value) {
    SetString(event, object, key, value);
  };
  ForEachException(event, [&](rapidjson::Value& item) {
    if (item.HasMember("value")) set(item, "value", text);
  });
  if (event.HasMember("logentry") && event["logentry"].IsObject()) set(event["logentry"], "formatted", text);
  if (event.HasMember("message") && event["message"].IsString()) set(event, "message", text);
  set(event, "transaction", "/route/" + std::to_string(n));
  set(event, "logger", "logger." + std::to_string(n % 3));
  set(event, "level", n % 2 == 0 ? "warning" : "error");
  set(event, "release", "app@" + std::to_string(n));
  if (!event.HasMember("tags")) event.AddMember("tags", rapidjson::Value(rapidjson::kObjectType), alloc);
  rapidjson::Value& tags = event["tags"];
  const std::string server = "db-" + std::to_string(n);
  if (tags.IsArray()) {  // the [[key, value], ...] form
    rapidjson::Value pair(rapidjson::kArrayType);
    pair.PushBack(rapidjson::Value("server", alloc), alloc).PushBack(rapidjson::Value(server.c_str(), alloc), alloc);
    tags.PushBack(pair, alloc);
  } else {
    set(tags, "server", server);
  }
}

// Changes one field the memo does key on (`change` picks which: a frame field of the newest
// frames, in_app, the exception type, the log template): the result must then be computed afresh,
// so it equals fresh grouping even where it differs from the previous event's.
void ChangeStableField(rapidjson::Document& event, int change) {
  auto& alloc = event.GetAllocator();
  static const char* const kFrameKeys[] = {"function", "module", "filename", "context_line", "abs_path", "lineno"};
  const std::string suffix = std::to_string(change);
  const auto set_string = [&](rapidjson::Value& object, const char* key, const std::string& value) {
    SetString(event, object, key, value);
  };
  const auto change_frames = [&](rapidjson::Value& stacktrace) {
    if (!stacktrace.IsObject() || !stacktrace.HasMember("frames") || !stacktrace["frames"].IsArray()) return;
    auto frames = stacktrace["frames"].GetArray();
    if (frames.Empty() || !frames[frames.Size() - 1].IsObject()) return;
    rapidjson::Value& frame = frames[frames.Size() - 1];
    const int which = change % 8;
    if (which < 5) {
      set_string(frame, kFrameKeys[which], std::string(kFrameKeys[which]) + "_" + suffix);
    } else if (which == 5) {
      if (frame.HasMember("lineno")) frame.RemoveMember("lineno");
      frame.AddMember("lineno", rapidjson::Value(1000 + change), alloc);
    } else if (which == 6) {
      const bool in_app = frame.HasMember("in_app") && frame["in_app"].IsTrue();
      if (frame.HasMember("in_app")) frame.RemoveMember("in_app");
      frame.AddMember("in_app", rapidjson::Value(!in_app), alloc);
    }
  };
  ForEachException(event, [&](rapidjson::Value& item) {
    if (item.HasMember("stacktrace")) change_frames(item["stacktrace"]);
    if (change % 8 == 7 && item.HasMember("type")) set_string(item, "type", "Type" + suffix);
  });
  if (event.HasMember("stacktrace")) change_frames(event["stacktrace"]);
  if (change % 8 == 7 && event.HasMember("logentry") && event["logentry"].IsObject() &&
      event["logentry"].HasMember("message")) {
    set_string(event["logentry"], "message", "template %s " + suffix);
  }
}

}  // namespace

TEST_CASE("the memo gives what grouping afresh gives, for every fixture and its next events",
          "[unit][grouping][memo]") {
  std::vector<std::pair<std::string, grouping::ProjectRules>> cases;
  for (const auto& entry : std::filesystem::directory_iterator(ROOKERY_GROUPING_TEST_FIXTURES)) {
    if (entry.path().extension() != ".json") continue;
    const std::string json = ReadFile(entry.path());
    cases.emplace_back(json, FixtureRules(ParseJson(json)));
  }
  REQUIRE(cases.size() >= 10);
  // Rules that read each watched field, on a Python event with an in-app stack.
  const std::string python = R"({"platform": "python", "exception": {"values": [{"type": "TimeoutError",
      "value": "timeout after 3 s", "stacktrace": {"frames": [
        {"function": "handle", "module": "app.views", "filename": "app/views.py", "lineno": 10, "in_app": true},
        {"function": "fetch", "module": "app.client", "filename": "app/client.py", "lineno": 20, "in_app": true}]}}]},
      "transaction": "/orders", "logger": "app", "release": "app@1", "tags": {"server": "db-1"}})";
  const std::vector<std::pair<std::string, std::string>> rule_texts = {
      {"", ""},
      {R"(error.value:"changed 2*" -> value-rule)", ""},
      {R"(tags.server:"db-3" -> tag-rule)", ""},
      {R"(logger:"logger.1" -> logger-rule)", ""},
      {R"(level:"warning" -> level-rule)", ""},
      {R"(release:"app@4" -> release-rule)", ""},
      {R"(message:"*user 1005*" -> message-rule)", ""},
      {R"(type:"TimeoutError" -> typed, {{ transaction }} title="In {{ transaction }}: {{ value }}")", ""},
      {R"(type:"TimeoutError" -> by-message, {{ message }}, {{ tags.server }} title="{{ message }} on {{ level }}")",
       ""},
      {R"(type:"TimeoutError" -> by-logger, {{ logger }}, {{ release }})", ""},
      {"", R"(error.value:"changed 1*" function:fetch -group)"},
      {"", R"(error.value:"*" function:fetch -app)"},
  };
  for (const auto& [fingerprinting, enhancements] : rule_texts) {
    cases.emplace_back(python, Rules(fingerprinting, enhancements));
  }
  // Sentry's built-in JavaScript rules read the exception value and the transaction tag.
  cases.emplace_back(R"({"platform": "javascript", "transaction": "/checkout", "exception": {"values": [{
      "type": "Error", "value": "Hydration failed because the initial UI does not match what was rendered on the server.",
      "stacktrace": {"frames": [{"function": "render", "filename": "app.js", "abs_path": "https://x.io/app.js",
      "lineno": 1, "colno": 2, "in_app": true}]}}]}})",
                     grouping::ProjectRules{});
  cases.emplace_back(R"({"platform": "javascript", "exception": {"values": [{"type": "ChunkLoadError",
      "value": "ChunkLoadError: Loading chunk 7 failed."}]}, "tags": [["server", "web-1"]]})",
                     grouping::ProjectRules{});
  cases.emplace_back(R"({"message": "disk %s is full", "logger": "disk"})", grouping::ProjectRules{});

  grouping::GroupingMemo memo(64);
  std::uint64_t rules_id = 0;
  for (const auto& [json, rules] : cases) {
    ++rules_id;
    rapidjson::Document original = ParseJson(json);
    const rapidjson::Value& event = original.HasMember("event") ? original["event"] : original;
    rapidjson::Document current;
    current.CopyFrom(event, current.GetAllocator());
    for (int n = 0; n < 34; ++n) {
      // Mostly the next events of one issue; every fourth also moves one keyed field.
      if (n > 0) ChangeWatchedFields(current, n);
      if (n % 4 == 3) ChangeStableField(current, n / 4);
      INFO(json << "\nrules " << rules_id << ", next event " << n);
      const std::string fresh = Summary(grouping::ComputeSentryGrouping(current, rules));
      CHECK(Summary(memo.Compute(current, rules, rules_id)) == fresh);
      CHECK(Summary(memo.Compute(current, rules, rules_id)) == fresh);  // now from the memo
    }
  }
  CHECK(memo.Hits() >= memo.Misses());
  CHECK(memo.Size() <= 64);
}

TEST_CASE("events of one issue that differ only in watched fields share one memoized result",
          "[unit][grouping][memo]") {
  const auto event = [](const std::string& value, const std::string& server) {
    return ParseJson(R"({"platform": "python", "exception": {"values": [{"type": "KeyError", "value": ")" + value +
                     R"(", "stacktrace": {"frames": [{"function": "load", "module": "app.orders",
                     "filename": "app/orders.py", "lineno": 7, "in_app": true}]}}]}, "tags": {"server": ")" +
                     server + R"("}})");
  };
  grouping::GroupingMemo memo;
  const grouping::ProjectRules rules;
  const auto first = memo.Compute(event("'order 1'", "a"), rules, 1);
  const auto second = memo.Compute(event("'order 2'", "b"), rules, 1);
  CHECK(first.hashes == second.hashes);
  CHECK(memo.Misses() == 1);
  CHECK(memo.Hits() == 1);
  // Other rules: computed afresh.
  memo.Compute(event("'order 3'", "c"), rules, 2);
  CHECK(memo.Misses() == 2);
}

TEST_CASE("results that depend on an exception value are memoized per value", "[unit][grouping][memo]") {
  // Without a stack trace the value is hashed (parameterized), so it decides the issue.
  const auto event = [](const std::string& value) {
    return ParseJson(R"({"platform": "python", "exception": {"values": [{"type": "ValueError", "value": ")" + value +
                     R"("}]}})");
  };
  grouping::GroupingMemo memo;
  const grouping::ProjectRules rules;
  const auto bad_input = memo.Compute(event("bad input"), rules, 1);
  const auto disk_full = memo.Compute(event("disk full"), rules, 1);
  CHECK(bad_input.hashes != disk_full.hashes);
  CHECK(memo.Compute(event("bad input"), rules, 1).hashes == bad_input.hashes);
  CHECK(memo.Hits() == 1);
  CHECK(memo.Misses() == 2);
  CHECK(bad_input.hashes == grouping::ComputeSentryGrouping(event("bad input"), rules).hashes);
}

TEST_CASE("the memo holds at most its capacity", "[unit][grouping][memo]") {
  grouping::GroupingMemo memo(8);
  const grouping::ProjectRules rules;
  for (int i = 0; i < 50; ++i) {
    memo.Compute(ParseJson(R"({"exception": {"values": [{"type": "E)" + std::to_string(i) + R"("}]}})"), rules, 1);
    CHECK(memo.Size() <= 8);
  }
  CHECK(memo.Misses() == 50);
}
