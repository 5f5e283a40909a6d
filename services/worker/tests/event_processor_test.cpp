#include <catch2/catch.hpp>

#include "event_processor.hpp"
#include "rookery/core/md5.hpp"

using namespace rookery::worker;
using rookery::protocol::EncodeRawEvent;
using rookery::protocol::IngestEndpoint;
using rookery::protocol::RawEvent;

namespace {
const rookery::grouping::ProjectRules kNoRules;
const RulesLookup kRules = [](std::int64_t) -> const rookery::grouping::ProjectRules& { return kNoRules; };
}  // namespace

namespace {

RawEvent MakeRaw(IngestEndpoint endpoint, std::string body) {
  RawEvent raw;
  raw.event_id = *rookery::EventId::Parse("fc6d8c0c43fc4630ad850ee518f1b9d0");
  raw.project_id = 3;
  raw.key_id = 1;
  raw.received_at_ms = 1700000000000;
  raw.client_ip = "198.51.100.7";
  raw.endpoint = endpoint;
  raw.body = std::move(body);
  return raw;
}

}  // namespace

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
  rookery::grouping::ProjectRules project_rules;
  project_rules.fingerprinting = *rules;
  std::int64_t asked_for = 0;
  const RulesLookup lookup = [&](std::int64_t project_id) -> const rookery::grouping::ProjectRules& {
    asked_for = project_id;
    return project_rules;
  };
  auto result = ProcessRecord(
      EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, R"({"exception":{"values":[{"type":"E","value":"v"}]}})")), "1",
      lookup);
  auto* processed = std::get_if<ProcessedEvent>(&result);
  REQUIRE(processed != nullptr);
  CHECK(asked_for == 3);
  CHECK(processed->grouping.hashes[0] == rookery::Md5Hex("all-e-errors"));
  CHECK(processed->event.title == "All the E");
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
