#include <catch2/catch.hpp>

#include <algorithm>

#include "event_processor.hpp"
#include "rookery/core/md5.hpp"
#include "test_support.hpp"

using namespace rookery::worker;
using rookery::protocol::EncodeRawEvent;
using rookery::protocol::IngestEndpoint;
using rookery::protocol::RawEvent;
using rookery::worker::testing::kRules;
using rookery::worker::testing::MakeRaw;

TEST_CASE("a store event becomes a row-ready event", "[unit][worker]") {
  auto result = ProcessRecord(
      EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, R"({"exception":{"values":[{"type":"E","value":"v"}]}})")), "1",
      kRules);
  auto* processed = std::get_if<ProcessedEvent>(&result);
  REQUIRE(processed != nullptr);
  CHECK(processed->event.title == "E: v");
  CHECK(processed->raw.project_id == 3);
  CHECK(processed->client_ip == "198.51.100.7");
  CHECK(processed->grouping.config == "newstyle:2023-01-11");
  // Sentry's hash for an exception without a stack trace: md5("E" + "v").
  REQUIRE_FALSE(processed->grouping.hashes.empty());
  CHECK(processed->grouping.hashes[0] == rookery::Md5Hex("Ev"));
}

TEST_CASE("the project's fingerprint rules group and title the event", "[unit][worker]") {
  auto rules = rookery::grouping::ParseFingerprintRules("error.type:E -> all-e-errors title=\"All the E\"");
  REQUIRE(rules.has_value());
  ProjectSettings project;
  project.rules.fingerprinting = *rules;
  std::int64_t asked_for = 0;
  const SettingsLookup lookup = [&](std::int64_t project_id) -> const ProjectSettings& {
    asked_for = project_id;
    return project;
  };
  auto result = ProcessRecord(
      EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, R"({"exception":{"values":[{"type":"E","value":"v"}]}})")), "1",
      lookup);
  auto* processed = std::get_if<ProcessedEvent>(&result);
  REQUIRE(processed != nullptr);
  CHECK(asked_for == 3);
  CHECK(processed->grouping.hashes[0] == rookery::Md5Hex("all-e-errors"));
  CHECK(processed->event.title == "All the E");
  // Sentry keeps the rule's title in the issue's metadata, next to the exception's.
  CHECK(rookery::normalize::MetadataJson(processed->event.metadata) ==
        R"({"type":"E","value":"v","title":"All the E"})");
}

TEST_CASE("the event item of an envelope is the event", "[unit][worker]") {
  auto result = ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kEnvelope,
                                                     "{}\n{\"type\":\"session\"}\n{}\n{\"type\":\"event\"}\n"
                                                     "{\"message\":\"from an envelope\"}\n")),
                              "", kRules);
  auto* processed = std::get_if<ProcessedEvent>(&result);
  REQUIRE(processed != nullptr);
  CHECK(processed->event.title == "from an envelope");
}

TEST_CASE("what cannot be processed is dead-lettered or skipped, never thrown", "[unit][worker]") {
  CHECK(std::holds_alternative<DeadLetter>(ProcessRecord("garbage", "", kRules)));
  CHECK(std::holds_alternative<DeadLetter>(
      ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, "{}")), "2", kRules)));
  CHECK(std::holds_alternative<DeadLetter>(
      ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, "not json")), "1", kRules)));
  // Valid JSON, but not an event object.
  for (const char* not_an_object : {"[1,2]", "42", "\"text\"", "null"}) {
    auto result = ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, not_an_object)), "1", kRules);
    REQUIRE(std::holds_alternative<DeadLetter>(result));
    CHECK_FALSE(std::get<DeadLetter>(result).reason.empty());
  }
  CHECK(std::holds_alternative<Skipped>(
      ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, R"({"type":"transaction"})")), "1", kRules)));
  CHECK(std::holds_alternative<Skipped>(ProcessRecord(
      EncodeRawEvent(MakeRaw(IngestEndpoint::kEnvelope, "{}\n{\"type\":\"client_report\"}\n{}")), "1", kRules)));
}

TEST_CASE("a document nested too deep is dead-lettered, not a crash", "[unit][worker]") {
  const std::string deep = "{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  CHECK(std::holds_alternative<DeadLetter>(
      ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, deep)), "1", kRules)));
}

TEST_CASE("client IPs that are not addresses are dropped", "[unit][worker]") {
  auto raw = MakeRaw(IngestEndpoint::kStore, "{}");
  raw.client_ip = "'; DROP TABLE events; --";
  auto result = ProcessRecord(EncodeRawEvent(raw), "1", kRules);
  REQUIRE(std::holds_alternative<ProcessedEvent>(result));
  CHECK(std::get<ProcessedEvent>(result).client_ip.empty());
}

TEST_CASE("the project's scrubbing settings apply before anything is stored", "[unit][worker]") {
  const std::string body =
      R"({"message":"login failed","extra":{"password":"hunter2","order_ref":"A-77","card":"4111 1111 1111 1111"},)"
      R"("user":{"id":"u-1","ip_address":"{{auto}}"},"tags":{"shop":"north"}})";
  RawEvent raw = MakeRaw(IngestEndpoint::kStore, body);
  raw.client_ip = "203.0.113.9";

  SECTION("defaults: secrets filtered, the user's IP resolved, tags and the user kept for the issue") {
    auto result = ProcessRecord(EncodeRawEvent(raw), "1", kRules);
    auto* processed = std::get_if<ProcessedEvent>(&result);
    REQUIRE(processed != nullptr);
    CHECK(processed->event.storable_json.find("hunter2") == std::string::npos);
    CHECK(processed->event.storable_json.find("4111") == std::string::npos);
    CHECK(processed->event.storable_json.find("A-77") != std::string::npos);
    CHECK(processed->event.storable_json.find("203.0.113.9") != std::string::npos);
    CHECK(processed->client_ip == "203.0.113.9");
    CHECK(processed->user_key == "id:u-1");
    CHECK(std::is_sorted(processed->tags.begin(), processed->tags.end()));
    const auto has = [&](const char* key, const char* value) {
      return std::find(processed->tags.begin(), processed->tags.end(),
                       std::pair<std::string, std::string>{key, value}) != processed->tags.end();
    };
    CHECK(has("shop", "north"));
    CHECK(has("level", "error"));
  }

  SECTION("a project's own sensitive field and IP scrubbing") {
    ProjectSettings project;
    project.scrubbing.extra_fields = {"order_ref"};
    project.scrubbing.scrub_ip_addresses = true;
    auto result =
        ProcessRecord(EncodeRawEvent(raw), "1", [&](std::int64_t) -> const ProjectSettings& { return project; });
    auto* processed = std::get_if<ProcessedEvent>(&result);
    REQUIRE(processed != nullptr);
    CHECK(processed->event.storable_json.find("A-77") == std::string::npos);
    CHECK(processed->event.storable_json.find("203.0.113.9") == std::string::npos);
    CHECK(processed->client_ip.empty());
  }

  SECTION("scrubbing turned off keeps what the SDK sent") {
    ProjectSettings project;
    project.scrubbing.enabled = false;
    auto result =
        ProcessRecord(EncodeRawEvent(raw), "1", [&](std::int64_t) -> const ProjectSettings& { return project; });
    auto* processed = std::get_if<ProcessedEvent>(&result);
    REQUIRE(processed != nullptr);
    CHECK(processed->event.storable_json.find("hunter2") != std::string::npos);
  }
}

TEST_CASE("a fingerprint rule's title is made from the scrubbed event", "[unit][worker]") {
  auto rules =
      rookery::grouping::ParseFingerprintRules(R"(message:"charge failed*" -> charges title="Charge: {{ message }}")");
  REQUIRE(rules.has_value());
  ProjectSettings project;
  project.rules.fingerprinting = *rules;
  auto result = ProcessRecord(
      EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, R"({"message":"charge failed for 4111 1111 1111 1111"})")), "1",
      [&](std::int64_t) -> const ProjectSettings& { return project; });
  auto* processed = std::get_if<ProcessedEvent>(&result);
  REQUIRE(processed != nullptr);
  CHECK(processed->grouping.hashes[0] == rookery::Md5Hex("charges"));
  CHECK(processed->event.title.rfind("Charge: charge failed for ", 0) == 0);
  CHECK(processed->event.title.find("4111") == std::string::npos);
}

namespace {

// A python stack of `count` frames f0..f{count-1}, oldest first, the first ten in-app.
std::string PythonStack(int first, int count) {
  std::string frames;
  for (int i = first; i < first + count; ++i) {
    if (!frames.empty()) frames += ',';
    frames += R"({"module":"app.m)" + std::to_string(i) + R"(","function":"f)" + std::to_string(i) + R"(","in_app":)" +
              (i < 10 ? "true" : "false") + "}";
  }
  return R"({"platform":"python","exception":{"values":[{"type":"RecursionError","value":"deep",)"
         R"("stacktrace":{"frames":[)" +
         frames + "]}}]}}";
}

std::vector<std::string> HashesOf(const std::string& body) {
  auto result = ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, body)), "1", kRules);
  auto* processed = std::get_if<ProcessedEvent>(&result);
  REQUIRE(processed != nullptr);
  return processed->grouping.hashes;
}

}  // namespace

TEST_CASE("a stack over 250 frames groups as its newest 250, as Sentry groups it", "[unit][worker]") {
  // Relay drops the oldest frames before Sentry groups: the in-app frames at the bottom of a deep
  // recursion are gone, so the event groups by its system frames alone.
  const auto deep = HashesOf(PythonStack(0, 300));
  CHECK(deep == HashesOf(PythonStack(50, 250)));
  CHECK(deep != HashesOf(PythonStack(0, 250)));
}
