#include <catch2/catch.hpp>

#include "rookery/protocol/ingest_payload.hpp"

using namespace rookery::protocol;

TEST_CASE("store bodies", "[unit][protocol]") {
  auto with_id = InspectStoreBody(R"({"event_id":"fc6d8c0c43fc4630ad850ee518f1b9d0","message":"x"})");
  REQUIRE(with_id.has_value());
  CHECK(with_id->event_id.ToHex() == "fc6d8c0c43fc4630ad850ee518f1b9d0");
  CHECK_FALSE(with_id->event_id_generated);

  auto without_id = InspectStoreBody(R"({"message":"x"})");
  REQUIRE(without_id.has_value());
  CHECK(without_id->event_id_generated);
  CHECK_FALSE(without_id->event_id.IsNil());

  auto nan = InspectStoreBody(R"({"extra":{"ratio":NaN}})");
  CHECK(nan.has_value());

  CHECK(InspectStoreBody("").error().code == IngestErrorCode::kEmptyBody);
  CHECK(InspectStoreBody("not json").error().code == IngestErrorCode::kBadJson);
  CHECK(InspectStoreBody("[1,2]").error().code == IngestErrorCode::kBadJson);
  CHECK(InspectStoreBody(R"({"event_id":"xyz"})").error().code == IngestErrorCode::kBadEventId);
}

TEST_CASE("envelope bodies", "[unit][protocol]") {
  auto header_wins = InspectEnvelopeBody(
      "{\"event_id\":\"9ec79c33-ec99-42ab-8353-589fcb2e04dc\"}\n{\"type\":\"event\"}\n"
      "{\"event_id\":\"fc6d8c0c43fc4630ad850ee518f1b9d0\",\"message\":\"x\"}\n");
  REQUIRE(header_wins.has_value());
  CHECK(header_wins->has_event);
  CHECK(header_wins->event_id.ToHex() == "9ec79c33ec9942ab8353589fcb2e04dc");

  auto sessions_only = InspectEnvelopeBody("{}\n{\"type\":\"session\"}\n{\"started\":\"2020-02-07T14:16:00Z\"}");
  REQUIRE(sessions_only.has_value());
  CHECK_FALSE(sessions_only->has_event);

  CHECK(InspectEnvelopeBody("{}\n{\"type\":\"event\"}\nnot json\n").error().code == IngestErrorCode::kBadJson);
}

TEST_CASE("envelopes forward event-like items and count the rest", "[unit][protocol]") {
  const std::string body =
      "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n"
      "{\"type\":\"attachment\",\"length\":5,\"filename\":\"a.txt\"}\nhello\n"
      "{\"type\":\"event\"}\n{\"message\":\"x\"}\n"
      "{\"type\":\"client_report\"}\n{\"discarded_events\":[]}\n"
      "{\"type\":\"something_new\",\"length\":3}\nabc";
  auto payload = InspectEnvelopeBody(body);
  REQUIRE(payload.has_value());
  CHECK(payload->has_event);
  CHECK(payload->forward_body ==
        "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"event\"}\n{\"message\":\"x\"}\n");
  REQUIRE(payload->dropped.size() == 3);
  CHECK(payload->dropped[0].type == "attachment");
  CHECK(payload->dropped[0].bytes == 5);
  CHECK(payload->dropped[1].type == "client_report");
  CHECK(payload->dropped[2].type == "something_new");

  // The forwarded envelope is itself a valid envelope with the same event.
  auto again = InspectEnvelopeBody(payload->forward_body);
  REQUIRE(again.has_value());
  CHECK(again->event_id == payload->event_id);
  CHECK(again->dropped.empty());
}

TEST_CASE("envelope item limits", "[unit][protocol]") {
  EnvelopeLimits limits;
  limits.max_event_bytes = 20;
  limits.max_attachment_bytes = 4;
  limits.max_attachments_bytes = 6;
  auto big_event = InspectEnvelopeBody("{}\n{\"type\":\"event\"}\n{\"message\":\"far too long for this\"}", limits);
  REQUIRE_FALSE(big_event.has_value());
  CHECK(big_event.error().code == IngestErrorCode::kTooLarge);
  CHECK(big_event.error().cause == "envelope exceeded size limits for type 'event'");
  CHECK(InspectEnvelopeBody("{}\n{\"type\":\"attachment\",\"length\":5}\nhello", limits).error().cause ==
        "envelope exceeded size limits for type 'attachment'");
  CHECK(InspectEnvelopeBody(
            "{}\n{\"type\":\"attachment\",\"length\":4}\nabcd\n{\"type\":\"attachment\",\"length\":4}\nabcd", limits)
            .error()
            .code == IngestErrorCode::kTooLarge);
  CHECK(InspectEnvelopeBody("{}\n{\"type\":\"session\"}\n{\"a\":\"a much longer session payload\"}", limits)
            .has_value());  // dropped items have no event limit
}

TEST_CASE("event ids are read from the top level only, in every JSON shape", "[unit][protocol]") {
  auto nested = InspectStoreBody(R"({"extra":{"event_id":"not-an-id"},"event_id":"fc6d8c0c43fc4630ad850ee518f1b9d0"})");
  REQUIRE(nested.has_value());
  CHECK(nested->event_id.ToHex() == "fc6d8c0c43fc4630ad850ee518f1b9d0");
  auto only_nested = InspectStoreBody(R"({"extra":{"event_id":"not-an-id"},"list":[{"event_id":1}]})");
  REQUIRE(only_nested.has_value());
  CHECK(only_nested->event_id_generated);
  CHECK(InspectStoreBody(R"({"event_id":null})")->event_id_generated);
  CHECK(InspectStoreBody(R"({"event_id":42})").error().code == IngestErrorCode::kBadEventId);
  CHECK(InspectStoreBody(R"({"event_id":{"a":1}})").error().code == IngestErrorCode::kBadEventId);
  CHECK(InspectStoreBody(R"("just a string")").error().code == IngestErrorCode::kBadJson);
  CHECK(InspectStoreBody(R"(42)").error().code == IngestErrorCode::kBadJson);
  CHECK(InspectStoreBody(R"({"a":1} trailing)").error().code == IngestErrorCode::kBadJson);
  CHECK(InspectStoreBody(R"({"a":[1,2,{"b":"c"}],"event_id":"FC6D8C0C-43FC-4630-AD85-0EE518F1B9D0"})")
            ->event_id.ToHex() == "fc6d8c0c43fc4630ad850ee518f1b9d0");
}

TEST_CASE("deeply nested JSON is refused, not a stack overflow", "[unit][protocol]") {
  const std::string deep_array(300000, '[');
  CHECK(InspectStoreBody("{\"a\":" + deep_array).error().cause == "JSON nested too deep");
  CHECK(InspectEnvelopeBody("{}\n{\"type\":\"event\"}\n{\"a\":" + deep_array).error().code ==
        IngestErrorCode::kBadJson);
  CHECK(InspectEnvelopeBody(deep_array + "\n").error().cause == "invalid envelope header");
  // Nesting up to the limit is fine.
  std::string ok = "{\"a\":";
  for (int i = 0; i < 100; ++i) ok += "[";
  for (int i = 0; i < 100; ++i) ok += "]";
  ok += "}";
  CHECK(InspectStoreBody(ok).has_value());
  // An empty event_id is not an id (Relay refuses it); null means "none".
  CHECK(InspectStoreBody(R"({"event_id":""})").error().code == IngestErrorCode::kBadEventId);
}

TEST_CASE("a NUL byte inside a body is not the end of it", "[unit][protocol]") {
  const std::string with_nul("{\"a\":1}\0garbage", 15);
  CHECK(InspectStoreBody(with_nul).error().code == IngestErrorCode::kBadJson);
  CHECK(InspectStoreBody(std::string("{\"a\":\"x\0y\"}", 11)).error().code == IngestErrorCode::kBadJson);
}
