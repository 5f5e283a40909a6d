#include <catch2/catch.hpp>
#include <string>

#include "rookery/db/event_payload.hpp"

using rookery::db::CompressEventPayload;
using rookery::db::DecompressEventPayload;

TEST_CASE("an event payload round-trips through zstd and shrinks", "[unit][db]") {
  std::string json = R"({"event_id":"fc6d8c0c43fc4630ad850ee518f1b9d0","exception":{"values":[)";
  for (int i = 0; i < 60; ++i) {
    json += R"({"filename":"app/module.py","function":"handler_)" + std::to_string(i) + R"(","lineno":12},)";
  }
  json += "{}]}}";
  std::string compressed;
  REQUIRE(CompressEventPayload(json, compressed));
  CHECK(compressed.size() * 4 < json.size());
  CHECK(DecompressEventPayload(compressed) == json);

  REQUIRE(CompressEventPayload("", compressed));
  CHECK(DecompressEventPayload(compressed) == std::string());
}

TEST_CASE("a payload that is not the worker's zstd frame reads as nothing", "[unit][db]") {
  CHECK_FALSE(DecompressEventPayload(""));
  CHECK_FALSE(DecompressEventPayload(R"({"not":"compressed"})"));
  std::string compressed;
  REQUIRE(CompressEventPayload("some event text, some event text, some event text", compressed));
  CHECK_FALSE(DecompressEventPayload(compressed.substr(0, compressed.size() - 3)));  // truncated
}
