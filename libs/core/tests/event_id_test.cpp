#include <catch2/catch.hpp>

#include "rookery/core/event_id.hpp"

using rookery::EventId;

TEST_CASE("event ids parse from 32 hex and dashed UUIDs", "[unit][core]") {
  const auto plain = EventId::Parse("fc6d8c0c43fc4630ad850ee518f1b9d0");
  REQUIRE(plain.has_value());
  CHECK(plain->ToHex() == "fc6d8c0c43fc4630ad850ee518f1b9d0");
  CHECK(plain->ToUuidString() == "fc6d8c0c-43fc-4630-ad85-0ee518f1b9d0");

  const auto dashed = EventId::Parse("FC6D8C0C-43FC-4630-AD85-0EE518F1B9D0");
  REQUIRE(dashed.has_value());
  CHECK(*dashed == *plain);
}

TEST_CASE("malformed event ids are rejected", "[unit][core]") {
  CHECK_FALSE(EventId::Parse("").has_value());
  CHECK_FALSE(EventId::Parse("fc6d8c0c43fc4630ad850ee518f1b9d").has_value());       // 31 digits
  CHECK_FALSE(EventId::Parse("fc6d8c0c43fc4630ad850ee518f1b9dz").has_value());      // not hex
  CHECK_FALSE(EventId::Parse("fc6d8c0c4-3fc-4630-ad85-0ee518f1b9d0").has_value());  // dash misplaced
}

TEST_CASE("random event ids are version 4 and distinct", "[unit][core]") {
  const EventId a = EventId::Random();
  const EventId b = EventId::Random();
  CHECK(a != b);
  CHECK(a.ToHex()[12] == '4');
  CHECK_FALSE(a.IsNil());
  const auto round_trip = EventId::FromBytes(a.AsBytes());
  REQUIRE(round_trip.has_value());
  CHECK(*round_trip == a);
  CHECK_FALSE(EventId::FromBytes("short").has_value());
}
