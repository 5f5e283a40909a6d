#include <catch2/catch.hpp>

#include "rookery/grouping/grouping.hpp"

using rookery::grouping::ComputeInterimGrouping;
using rookery::normalize::NormalizeEvent;

namespace {

std::string HashOf(const std::string& json) {
  auto event = NormalizeEvent(json, {});
  REQUIRE(event.has_value());
  auto result = ComputeInterimGrouping(*event);
  REQUIRE(result.hashes.size() == 1);
  REQUIRE(result.hashes[0].size() == 32);
  return result.hashes[0];
}

}  // namespace

TEST_CASE("same exception type and value group together, whatever else differs", "[unit][grouping]") {
  const auto a = HashOf(R"({"exception":{"values":[{"type":"ValueError","value":"bad input",
      "stacktrace":{"frames":[{"function":"a","lineno":1}]}}]},"timestamp":1,"release":"1.0"})");
  const auto b = HashOf(R"({"exception":[{"type":"ValueError","value":"bad input",
      "stacktrace":{"frames":[{"function":"b","lineno":9}]}}],"release":"2.0"})");
  CHECK(a == b);
}

TEST_CASE("different type or value separates issues", "[unit][grouping]") {
  const auto base = HashOf(R"({"exception":{"values":[{"type":"ValueError","value":"bad input"}]}})");
  CHECK(base != HashOf(R"({"exception":{"values":[{"type":"KeyError","value":"bad input"}]}})"));
  CHECK(base != HashOf(R"({"exception":{"values":[{"type":"ValueError","value":"other"}]}})"));
  // Field boundaries matter: ("ab","c") is not ("a","bc").
  CHECK(HashOf(R"({"exception":{"values":[{"type":"ab","value":"c"}]}})") !=
        HashOf(R"({"exception":{"values":[{"type":"a","value":"bc"}]}})"));
}

TEST_CASE("messages group by their text; exceptions win over messages", "[unit][grouping]") {
  CHECK(HashOf(R"({"message":"disk full"})") == HashOf(R"({"logentry":{"formatted":"disk full"}})"));
  CHECK(HashOf(R"({"message":"disk full"})") != HashOf(R"({"message":"disk empty"})"));
  CHECK(HashOf(R"({"message":"disk full","exception":{"values":[{"type":"E","value":"v"}]}})") ==
        HashOf(R"({"exception":{"values":[{"type":"E","value":"v"}]}})"));
}

TEST_CASE("the legacy raven interface names group like the modern ones", "[unit][grouping]") {
  CHECK(HashOf(R"({"sentry.interfaces.Exception":{"type":"E","value":"v"}})") ==
        HashOf(R"({"exception":{"values":[{"type":"E","value":"v"}]}})"));
}
