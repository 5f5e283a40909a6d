#include <catch2/catch.hpp>

#include "event_processor.hpp"

using namespace rookery::worker;
using rookery::protocol::EncodeRawEvent;
using rookery::protocol::IngestEndpoint;
using rookery::protocol::RawEvent;

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
      EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, R"({"exception":{"values":[{"type":"E","value":"v"}]}})")), "1");
  auto* processed = std::get_if<ProcessedEvent>(&result);
  REQUIRE(processed != nullptr);
  CHECK(processed->event.title == "E: v");
  CHECK(processed->raw.project_id == 3);
  CHECK(processed->client_ip == "198.51.100.7");
  CHECK(processed->grouping.hashes.size() == 1);
}

TEST_CASE("the event item of an envelope is the event", "[unit][worker]") {
  auto result = ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kEnvelope,
                                                     "{}\n{\"type\":\"session\"}\n{}\n{\"type\":\"event\"}\n"
                                                     "{\"message\":\"from an envelope\"}\n")),
                              "");
  auto* processed = std::get_if<ProcessedEvent>(&result);
  REQUIRE(processed != nullptr);
  CHECK(processed->event.title == "from an envelope");
}

TEST_CASE("what cannot be processed is dead-lettered or skipped, never thrown", "[unit][worker]") {
  CHECK(std::holds_alternative<DeadLetter>(ProcessRecord("garbage", "")));
  CHECK(std::holds_alternative<DeadLetter>(ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, "{}")), "2")));
  CHECK(std::holds_alternative<DeadLetter>(
      ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, "not json")), "1")));
  CHECK(std::holds_alternative<Skipped>(
      ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kStore, R"({"type":"transaction"})")), "1")));
  CHECK(std::holds_alternative<Skipped>(
      ProcessRecord(EncodeRawEvent(MakeRaw(IngestEndpoint::kEnvelope, "{}\n{\"type\":\"client_report\"}\n{}")), "1")));
}

TEST_CASE("client IPs that are not addresses are dropped", "[unit][worker]") {
  auto raw = MakeRaw(IngestEndpoint::kStore, "{}");
  raw.client_ip = "'; DROP TABLE events; --";
  auto result = ProcessRecord(EncodeRawEvent(raw), "1");
  REQUIRE(std::holds_alternative<ProcessedEvent>(result));
  CHECK(std::get<ProcessedEvent>(result).client_ip.empty());
}
