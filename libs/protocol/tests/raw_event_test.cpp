#include <catch2/catch.hpp>

#include "rookery/ingest/v1/raw_event.pb.h"
#include "rookery/protocol/raw_event.hpp"

using namespace rookery::protocol;

TEST_CASE("the raw-event contract round-trips every field", "[unit][protocol][contract]") {
  RawEvent event;
  event.event_id = *rookery::EventId::Parse("fc6d8c0c43fc4630ad850ee518f1b9d0");
  event.project_id = 42;
  event.key_id = 7;
  event.received_at_ms = 1700000000123;
  event.client_ip = "203.0.113.9";
  event.endpoint = IngestEndpoint::kEnvelope;
  event.sdk_name = "sentry.python";
  event.sdk_version = "1.9.10";
  event.body = std::string("{\"message\":\"x\"}\0binary", 22);

  auto decoded = DecodeRawEvent(EncodeRawEvent(event));
  REQUIRE(decoded.has_value());
  CHECK(decoded->contract_version == kRawEventContractVersion);
  CHECK(decoded->event_id == event.event_id);
  CHECK(decoded->project_id == 42);
  CHECK(decoded->key_id == 7);
  CHECK(decoded->received_at_ms == 1700000000123);
  CHECK(decoded->client_ip == "203.0.113.9");
  CHECK(decoded->endpoint == IngestEndpoint::kEnvelope);
  CHECK(decoded->sdk_name == "sentry.python");
  CHECK(decoded->sdk_version == "1.9.10");
  CHECK(decoded->body == event.body);
}

TEST_CASE("messages the worker cannot read are errors, not crashes", "[unit][protocol][contract]") {
  CHECK(DecodeRawEvent("\xff\xff\xff garbage").error().code == DecodeErrorCode::kNotProtobuf);

  rookery::ingest::v1::RawEvent future;
  future.set_contract_version(99);
  future.set_event_id(std::string(16, 'a'));
  future.set_project_id(1);
  future.set_endpoint(rookery::ingest::v1::ENDPOINT_STORE);
  CHECK(DecodeRawEvent(future.SerializeAsString()).error().code == DecodeErrorCode::kUnsupportedVersion);

  future.set_contract_version(1);
  future.set_event_id("short");
  CHECK(DecodeRawEvent(future.SerializeAsString()).error().code == DecodeErrorCode::kBadEventId);

  future.set_event_id(std::string(16, 'a'));
  future.set_endpoint(rookery::ingest::v1::ENDPOINT_UNSPECIFIED);
  CHECK(DecodeRawEvent(future.SerializeAsString()).error().code == DecodeErrorCode::kBadEndpoint);
}
