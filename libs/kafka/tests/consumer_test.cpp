#include <catch2/catch.hpp>

#include "rookery/kafka/consumer.hpp"

using rookery::kafka::IsOffsetResetLoss;

TEST_CASE("offset resets that lose data are told apart from a new group's start", "[unit][kafka]") {
  // As librdkafka 2.x logs them (facility OFFSET, level warning).
  CHECK(IsOffsetResetLoss("OFFSET",
                          "rookery.raw-events [3]: offset reset (at offset 812 (leader epoch 0), broker 1) to offset "
                          "BEGINNING (leader epoch -1): fetch failed due to requested offset not available on the "
                          "broker: Broker: Offset out of range"));
  CHECK_FALSE(IsOffsetResetLoss("OFFSET",
                                "rookery.raw-events [3]: offset reset (at offset INVALID, broker 1) to offset "
                                "BEGINNING: no previously committed offset available: Local: No offset stored"));
  CHECK_FALSE(IsOffsetResetLoss("FETCH", "offset reset"));
}
