// Clock drift, timestamps and Sentry's size limits (sentry-protocol.md §7.1, §7.5), each with the
// annotation it leaves in `_meta` or `errors`.
#include <catch2/catch.hpp>

#include <string>

#include "rookery/normalize/event.hpp"
#include "test_support.hpp"

using rookery::normalize::NormalizeEvent;
using rookery::normalize::testing::At;
using rookery::normalize::testing::Json;
using rookery::normalize::testing::ParseStored;
using rookery::normalize::testing::StringAt;

namespace {

constexpr std::int64_t kReceived = 1700000000000;  // 2023-11-14T22:13:20Z

std::string Frames(int count) {
  std::string frames;
  for (int i = 0; i < count; ++i) {
    if (i > 0) frames += ',';
    frames += R"({"function":"f)" + std::to_string(i) + R"(","vars":{"i":)" + std::to_string(i) + "}}";
  }
  return frames;
}

}  // namespace

TEST_CASE("clock drift of an hour or more shifts the event and its breadcrumbs", "[unit][normalize]") {
  // The device's clock is two hours behind: it stamped the event 10 s before it sent it.
  const std::int64_t sent_at = kReceived - 2 * 3600 * 1000;
  auto event = NormalizeEvent(R"({"message":"m","timestamp":1699992790,
      "breadcrumbs":{"values":[{"timestamp":1699992780.5,"message":"b"},{"timestamp":"2023-11-14T20:13:05Z"}]}})",
                              {.received_at_ms = kReceived, .sent_at_ms = sent_at});
  REQUIRE(event.has_value());
  CHECK(event->timestamp_ms == kReceived - 10000);
  const auto stored = ParseStored(event->storable_json);
  CHECK(Json(At(stored, "/timestamp")) == "1699999990.0");
  CHECK(Json(At(stored, "/breadcrumbs/values/0/timestamp")) == "1699999980.5");
  CHECK(Json(At(stored, "/breadcrumbs/values/1/timestamp")) == "1699999985.0");
  CHECK(Json(At(stored, "/errors")) ==
        R"([{"type":"clock_drift","name":"timestamp","sdk_time":"2023-11-14T20:13:20.000Z",)"
        R"("server_time":"2023-11-14T22:13:20.000Z"}])");
}

TEST_CASE("drift below 55 minutes, or without sent_at, is left alone", "[unit][normalize]") {
  auto small = NormalizeEvent(R"({"timestamp":1699999000})",
                              {.received_at_ms = kReceived, .sent_at_ms = kReceived - 20 * 60 * 1000});
  CHECK(small->timestamp_ms == 1699999000000);
  CHECK(small->storable_json == R"({"timestamp":1699999000})");
  auto store = NormalizeEvent(R"({"timestamp":1699999000})", {.received_at_ms = kReceived});
  CHECK(store->timestamp_ms == 1699999000000);
}

TEST_CASE("future and past timestamps fall back to the receive time with an error", "[unit][normalize]") {
  auto future = NormalizeEvent(R"({"timestamp":1700000120})", {.received_at_ms = kReceived});
  CHECK(future->timestamp_ms == kReceived);
  auto stored = ParseStored(future->storable_json);
  CHECK(Json(At(stored, "/timestamp")) == "1700000000.0");
  CHECK(StringAt(stored, "/errors/0/type") == "future_timestamp");
  CHECK(StringAt(stored, "/errors/0/sdk_time") == "2023-11-14T22:15:20.000Z");

  auto past = NormalizeEvent(R"({"timestamp":"2023-09-01T00:00:00Z","errors":[{"type":"sdk"}]})",
                             {.received_at_ms = kReceived});
  CHECK(past->timestamp_ms == kReceived);
  stored = ParseStored(past->storable_json);
  CHECK(StringAt(stored, "/errors/0/type") == "sdk");  // the SDK's own errors are kept
  CHECK(StringAt(stored, "/errors/1/type") == "past_timestamp");

  // A minute of tolerance: 30 s ahead is fine.
  CHECK(NormalizeEvent(R"({"timestamp":1700000030})", {.received_at_ms = kReceived})->timestamp_ms == 1700000030000);
}

TEST_CASE("an over-long message is cut with Sentry's !limit remark", "[unit][normalize]") {
  const std::string long_message(9000, 'a');
  auto event = NormalizeEvent(R"({"logentry":{"formatted":")" + long_message + R"("}})", {});
  REQUIRE(event.has_value());
  const auto stored = ParseStored(event->storable_json);
  const std::string formatted = StringAt(stored, "/logentry/formatted");
  CHECK(formatted.size() == 8192);
  CHECK(formatted.substr(8189) == "...");
  CHECK(Json(At(stored, "/_meta/logentry/formatted/")) == R"({"rem":[["!limit","s",8189,8192]],"len":9000})");
  CHECK(event->message == formatted);

  // Within the allowance (8192 + 200) nothing is cut.
  auto tolerated = NormalizeEvent(R"({"message":")" + std::string(8300, 'b') + R"("})", {});
  CHECK(StringAt(ParseStored(tolerated->storable_json), "/message").size() == 8300);
  CHECK(At(ParseStored(tolerated->storable_json), "/_meta") == nullptr);
}

TEST_CASE("limits count characters, not bytes", "[unit][normalize]") {
  std::string snowmen;
  for (int i = 0; i < 70; ++i) snowmen += "\xe2\x98\x83";
  auto event = NormalizeEvent(R"({"logger":")" + snowmen + R"("})", {});
  const auto stored = ParseStored(event->storable_json);
  CHECK(event->logger.size() == 61 * 3 + 3);  // 61 snowmen and "..."
  CHECK(Json(At(stored, "/_meta/logger/")) == R"({"rem":[["!limit","s",61,64]],"len":70})");
}

TEST_CASE("field limits: culprit, transaction, frame function, exception type", "[unit][normalize]") {
  const std::string long_name(300, 'x');
  auto event = NormalizeEvent(R"({"transaction":")" + long_name + R"(","exception":{"values":[{"type":")" + long_name +
                                  R"(","stacktrace":{"frames":[{"function":")" + long_name + R"("}]}}]}})",
                              {});
  REQUIRE(event.has_value());
  CHECK(event->transaction.size() == 200);
  const auto stored = ParseStored(event->storable_json);
  CHECK(StringAt(stored, "/transaction").size() == 200);
  CHECK(Json(At(stored, "/_meta/transaction/")) == R"({"rem":[["!limit","s",197,200]],"len":300})");
  CHECK(StringAt(stored, "/exception/values/0/type").size() == 256);
  CHECK(Json(At(stored, "/_meta/exception/values/0/stacktrace/frames/0/function/")) ==
        R"({"rem":[["!limit","s",253,256]],"len":300})");
}

TEST_CASE("more than 250 frames keep the newest 250, as Relay does", "[unit][normalize]") {
  auto event = NormalizeEvent(
      R"({"exception":{"values":[{"type":"RecursionError","stacktrace":{"frames":[)" + Frames(300) + "]}}]}}", {});
  REQUIRE(event.has_value());
  REQUIRE(event->exceptions.size() == 1);
  const auto& frames = event->exceptions[0].frames;
  REQUIRE(frames.size() == 250);
  CHECK(frames.front().function == "f50");
  CHECK(frames.back().function == "f299");
  const auto stored = ParseStored(event->storable_json);
  CHECK(At(stored, "/exception/values/0/stacktrace/frames_omitted") == nullptr);
  CHECK(Json(At(stored, "/_meta/exception/values/0/stacktrace/frames/")) == R"({"len":300})");
  CHECK(StringAt(stored, "/exception/values/0/stacktrace/frames/0/function") == "f50");
  // Only 50 frames keep their variables: the outermost ones.
  CHECK(At(stored, "/exception/values/0/stacktrace/frames/0/vars") != nullptr);
  CHECK(At(stored, "/exception/values/0/stacktrace/frames/100/vars") == nullptr);
  CHECK(At(stored, "/exception/values/0/stacktrace/frames/249/vars") != nullptr);
}

TEST_CASE("in-app frames keep their data first", "[unit][normalize]") {
  std::string frames;
  for (int i = 0; i < 60; ++i) {
    if (i > 0) frames += ',';
    frames += R"({"function":"f","in_app":)" + std::string(i == 30 ? "true" : "false") + R"(,"vars":{"a":1}})";
  }
  auto event = NormalizeEvent(R"({"stacktrace":{"frames":[)" + frames + "]}}", {});
  const auto stored = ParseStored(event->storable_json);
  CHECK(At(stored, "/stacktrace/frames/30/vars") != nullptr);
  CHECK(At(stored, "/stacktrace/frames/29/vars") == nullptr);
  CHECK(At(stored, "/stacktrace/frames/0/vars") != nullptr);
}

TEST_CASE("breadcrumbs are capped at the newest 100", "[unit][normalize]") {
  std::string crumbs;
  for (int i = 0; i < 130; ++i)
    crumbs += (i > 0 ? "," : "") + std::string(R"({"message":"c)") + std::to_string(i) + "\"}";
  auto event = NormalizeEvent(R"({"breadcrumbs":{"values":[)" + crumbs + "]}}", {});
  const auto stored = ParseStored(event->storable_json);
  CHECK(At(stored, "/breadcrumbs/values")->Size() == 100);
  CHECK(StringAt(stored, "/breadcrumbs/values/0/message") == "c30");
  CHECK(StringAt(stored, "/breadcrumbs/values/99/message") == "c129");
  CHECK(Json(At(stored, "/_meta/breadcrumbs/values/")) == R"({"len":130})");

  // The bare list form is annotated at the list itself.
  auto bare = NormalizeEvent(R"({"breadcrumbs":[)" + crumbs + "]}", {});
  CHECK(Json(At(ParseStored(bare->storable_json), "/_meta/breadcrumbs/")) == R"({"len":130})");
}

TEST_CASE("databags: too deep values are flattened, too big ones cut", "[unit][normalize]") {
  auto deep = NormalizeEvent(R"({"extra":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":1}}}}}}}}})", {});
  const auto deep_stored = ParseStored(deep->storable_json);
  CHECK(StringAt(deep_stored, "/extra/a/b/c/d/e/f/g") == R"({"h":1})");

  // breadcrumb data is a medium bag: 2 KiB.
  std::string data;
  for (int i = 0; i < 100; ++i)
    data += (i > 0 ? "," : "") + std::string(R"("k)") + std::to_string(i) + R"(":"0123456789012345678901234567890")";
  auto big = NormalizeEvent(R"({"breadcrumbs":[{"data":{)" + data + "}}]}", {});
  const auto stored = ParseStored(big->storable_json);
  const auto* kept = At(stored, "/breadcrumbs/0/data");
  REQUIRE(kept != nullptr);
  CHECK(kept->MemberCount() < 100);
  CHECK(kept->MemberCount() > 30);
  CHECK(Json(At(stored, "/_meta/breadcrumbs/0/data/")) == R"({"len":100})");

  // extra is massive (256 KiB): a 300 KB string is cut to what is left of the budget.
  auto huge = NormalizeEvent(R"({"extra":{"blob":")" + std::string(300000, 'z') + R"("}})", {});
  const auto huge_stored = ParseStored(huge->storable_json);
  CHECK(StringAt(huge_stored, "/extra/blob").size() < 262144);
  CHECK(StringAt(huge_stored, "/_meta/extra/blob//rem/0/0") == "!limit");
}

TEST_CASE("tags: both shapes, Sentry's length limits and reserved keys", "[unit][normalize]") {
  const std::string long_value(201, 'v');
  auto event = NormalizeEvent(R"({"tags":{" region ":" eu-1 ","big":")" + long_value +
                                  R"(","n":7,"flag":true,"obj":{"a":1},"user":"x","environment":"qa"}})",
                              {});
  REQUIRE(event.has_value());
  const auto stored = ParseStored(event->storable_json);
  CHECK(Json(At(stored, "/tags")) == R"({"region":"eu-1","n":"7","flag":"True"})");
  CHECK(Json(At(stored, "/_meta/tags/big/")) == R"({"err":["value_too_long"]})");
  CHECK(Json(At(stored, "/_meta/tags/obj/")) == R"({"err":["invalid_data"]})");
  CHECK(event->environment == "qa");  // moved from the tag, the event had none
  CHECK(StringAt(stored, "/environment") == "qa");
  REQUIRE(event->tags.size() >= 4);
  CHECK(event->tags[0] == std::make_pair(std::string("region"), std::string("eu-1")));
  CHECK(event->tags[3] == std::make_pair(std::string("level"), std::string("error")));

  const std::string long_key(201, 'k');
  auto pairs = NormalizeEvent(R"({"tags":[["a","1"],[")" + long_key + R"(","2"],["b"],"c:3"]})", {});
  const auto pairs_stored = ParseStored(pairs->storable_json);
  CHECK(Json(At(pairs_stored, "/tags")) == R"([["a","1"]])");
  CHECK(Json(At(pairs_stored, "/_meta/tags/1/")) == R"({"err":["value_too_long"]})");
  CHECK(Json(At(pairs_stored, "/_meta/tags/2/")) == R"({"err":["invalid_data"]})");
}

TEST_CASE("level, platform and release validation", "[unit][normalize]") {
  auto event = NormalizeEvent(R"({"level":"CRITICAL","platform":"cobol","release":"a/b","dist":" 12 "})", {});
  REQUIRE(event.has_value());
  CHECK(event->level == "fatal");
  CHECK(event->platform == "other");
  CHECK(event->release.empty());
  CHECK(event->dist == "12");
  const auto stored = ParseStored(event->storable_json);
  CHECK(Json(At(stored, "/level")) == R"("fatal")");
  CHECK(At(stored, "/platform") == nullptr);
  CHECK(Json(At(stored, "/_meta/platform/")) == R"({"err":["invalid_data"],"val":"cobol"})");
  CHECK(Json(At(stored, "/_meta/release/")) == R"({"err":["invalid_data"],"val":"a/b"})");

  auto bogus = NormalizeEvent(R"({"level":"loud"})", {});
  CHECK(bogus->level == "error");
  CHECK(Json(At(ParseStored(bogus->storable_json), "/_meta/level/")) == R"({"err":["invalid_data"],"val":"loud"})");
}
