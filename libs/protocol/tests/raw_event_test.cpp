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

TEST_CASE("the producer's encoding is byte for byte the same and takes the body over", "[unit][protocol][contract]") {
  RawEvent event;
  event.event_id = *rookery::EventId::Parse("fc6d8c0c43fc4630ad850ee518f1b9d0");
  event.project_id = 42;
  event.key_id = 7;
  event.client_ip = "203.0.113.9";
  event.sdk_name = "sentry.python";
  event.body = std::string(100000, 'x');
  const std::string expected = EncodeRawEvent(event);

  const rookery::MallocBuffer encoded = EncodeRawEventForProducer(std::move(event));
  CHECK(std::string(encoded.Data(), encoded.Size()) == expected);
  auto decoded = DecodeRawEvent(std::string_view(encoded.Data(), encoded.Size()));
  REQUIRE(decoded.has_value());
  CHECK(decoded->body == std::string(100000, 'x'));
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

TEST_CASE("a dead letter's message is read as far as it goes, whatever its version", "[unit][protocol][contract]") {
  CHECK_FALSE(DecodeRawEventUnchecked("\xff\xff\xff garbage").has_value());
  CHECK_FALSE(DecodeRawEventUnchecked("").has_value());  // parses, but no contract version
  // Runs of 'x' parse as a protobuf (field 15, varint 120, over and over): no version, not a message.
  CHECK_FALSE(DecodeRawEventUnchecked(std::string(1000, 'x')).has_value());

  rookery::ingest::v1::RawEvent future;
  future.set_contract_version(99);
  future.set_event_id("short");
  future.set_project_id(7);
  future.set_endpoint(static_cast<rookery::ingest::v1::Endpoint>(42));
  future.set_body("{\"message\":\"m\"}");
  auto unchecked = DecodeRawEventUnchecked(future.SerializeAsString());
  REQUIRE(unchecked.has_value());
  CHECK(unchecked->contract_version == 99);
  CHECK(unchecked->project_id == 7);
  CHECK_FALSE(unchecked->event_id.has_value());
  CHECK_FALSE(unchecked->endpoint.has_value());
  CHECK(unchecked->body == "{\"message\":\"m\"}");

  future.set_event_id(std::string(16, 'a'));
  future.set_endpoint(rookery::ingest::v1::ENDPOINT_ENVELOPE);
  unchecked = DecodeRawEventUnchecked(future.SerializeAsString());
  REQUIRE(unchecked.has_value());
  CHECK(unchecked->event_id.has_value());
  CHECK(unchecked->endpoint == IngestEndpoint::kEnvelope);
}

namespace {

std::string FromHex(std::string_view hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

}  // namespace

// Frozen bytes of a contract-1 message, encoded by protoc from tests/fixtures/raw_event_v1.txtpb
// (`protoc --proto_path=proto --encode=rookery.ingest.v1.RawEvent rookery/ingest/v1/raw_event.proto`),
// not by our encoder. Messages a previous release's relay left in Kafka must stay readable by every
// later worker: never edit this; when the contract changes, add the new version's fixture beside it.
TEST_CASE("a message written under contract version 1 stays readable", "[unit][protocol][contract]") {
  const std::string bytes = FromHex(
      "08011210fc6d8c0c43fc4630ad850ee518f1b9d0182a200728fbd0dfb4ab33320b3230332e302e3131332e393801420d"
      "73656e7472792e707974686f6e4a06312e392e313052247b226d657373616765223a227772697474656e20627920636f"
      "6e7472616374207631227d");
  auto decoded = DecodeRawEvent(bytes);
  REQUIRE(decoded.has_value());
  CHECK(decoded->contract_version == 1);
  CHECK(decoded->event_id.ToHex() == "fc6d8c0c43fc4630ad850ee518f1b9d0");
  CHECK(decoded->project_id == 42);
  CHECK(decoded->key_id == 7);
  CHECK(decoded->received_at_ms == 1764000000123);
  CHECK(decoded->client_ip == "203.0.113.9");
  CHECK(decoded->endpoint == IngestEndpoint::kStore);
  CHECK(decoded->sdk_name == "sentry.python");
  CHECK(decoded->sdk_version == "1.9.10");
  CHECK(decoded->body == R"({"message":"written by contract v1"})");
}
