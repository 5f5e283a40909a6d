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
