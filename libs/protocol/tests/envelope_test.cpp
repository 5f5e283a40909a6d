#include <catch2/catch.hpp>

#include "rookery/protocol/envelope.hpp"

using namespace rookery::protocol;
using namespace std::string_literals;

TEST_CASE("the develop docs' example envelope", "[unit][protocol]") {
  const std::string body =
      "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"https://"
      "e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42\"}\n"
      "{\"type\":\"attachment\",\"length\":10,\"content_type\":\"text/plain\",\"filename\":\"hello.txt\"}\n"
      "\xef\xbb\xbfHello\r\n\n"
      "{\"type\":\"event\",\"length\":41,\"content_type\":\"application/json\",\"filename\":\"application.log\"}\n"
      "{\"message\":\"hello world\",\"level\":\"error\"}\n";
  auto envelope = ParseEnvelope(body);
  REQUIRE(envelope.has_value());
  REQUIRE(envelope->items.size() == 2);
  CHECK(envelope->event_id->ToHex() == "9ec79c33ec9942ab8353589fcb2e04dc");
  CHECK(envelope->dsn == "https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42");
  CHECK(envelope->items[0].type == "attachment");
  CHECK(envelope->items[0].payload == "\xef\xbb\xbfHello\r\n");
  REQUIRE(envelope->FindEventItem() != nullptr);
  CHECK(envelope->FindEventItem()->payload == "{\"message\":\"hello world\",\"level\":\"error\"}");
}

TEST_CASE("length-less items and no final newline (JS and Ruby SDKs)", "[unit][protocol]") {
  const std::string body = "{}\n{\"type\":\"session\"}\n{\"started\": \"2020-02-07T14:16:00Z\"}";
  auto envelope = ParseEnvelope(body);
  REQUIRE(envelope.has_value());
  REQUIRE(envelope->items.size() == 1);
  CHECK(envelope->items[0].payload == "{\"started\": \"2020-02-07T14:16:00Z\"}");
  CHECK_FALSE(envelope->event_id.has_value());
  CHECK(envelope->FindEventItem() == nullptr);
}

TEST_CASE("zero-length items and empty envelopes", "[unit][protocol]") {
  auto zero = ParseEnvelope("{}\n{\"type\":\"attachment\",\"length\":0}\n\n");
  REQUIRE(zero.has_value());
  REQUIRE(zero->items.size() == 1);
  CHECK(zero->items[0].payload.empty());
  auto empty = ParseEnvelope("{}");
  REQUIRE(empty.has_value());
  CHECK(empty->items.empty());
}

TEST_CASE("grammar violations are refused with Relay's causes", "[unit][protocol]") {
  CHECK(ParseEnvelope("").error().cause == "missing envelope header");
  CHECK(ParseEnvelope("not json\n").error().cause == "invalid envelope header");
  CHECK(ParseEnvelope("[]\n").error().cause == "invalid envelope header");
  CHECK(ParseEnvelope("{} trailing\n").error().cause == "missing newline after header or payload");
  CHECK(ParseEnvelope("{}\n{\"type\":\"event\",\"length\":100}\n{}").error().cause == "unexpected end of file");
  CHECK(ParseEnvelope("{}\n{\"type\":\"event\",\"length\":2}\n{}X").error().cause ==
        "missing newline after header or payload");
  CHECK(ParseEnvelope("{}\n{broken\n").error().cause == "invalid item header");
  CHECK(ParseEnvelope("{}\n{\"length\":2}\n{}").error().cause == "missing item type");
  CHECK(ParseEnvelope("{\"event_id\":\"nope\"}\n").error().code == IngestErrorCode::kBadEventId);
}
