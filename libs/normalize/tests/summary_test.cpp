// Culprit, title and metadata: what Sentry derives for an issue (sentry/culprit.py,
// sentry/eventtypes/), case by case.
#include <catch2/catch.hpp>

#include <string>

#include "rookery/normalize/event.hpp"

using rookery::normalize::Event;
using rookery::normalize::MetadataJson;
using rookery::normalize::NormalizeEvent;

namespace {

Event Normalized(const std::string& json) {
  auto event = NormalizeEvent(json, {.received_at_ms = 1709294400000});
  REQUIRE(event.has_value());
  return std::move(*event);
}

// An error event of `platform` whose one exception has `frames` (a JSON list).
std::string ErrorWithFrames(const std::string& platform, const std::string& frames) {
  return R"({"platform":")" + platform + R"(","exception":{"values":[{"type":"E","value":"v",)" +
         R"("stacktrace":{"frames":)" + frames + "}}]}}";
}

}  // namespace

TEST_CASE("culprit: each platform writes the frame its own way", "[unit][normalize]") {
  const std::string frames = R"([
      {"filename":"lib/net.c","module":"net","function":"recv","in_app":false},
      {"filename":"app/views.py","module":"app.views","function":"checkout","in_app":true},
      {"filename":"lib/json.py","module":"json","function":"loads","in_app":false}])";
  // The newest in-app frame, not the newest frame.
  CHECK(Normalized(ErrorWithFrames("python", frames)).culprit == "app.views in checkout");
  CHECK(Normalized(ErrorWithFrames("javascript", frames)).culprit == "checkout(app.views)");
  CHECK(Normalized(ErrorWithFrames("node", frames)).culprit == "checkout(app.views)");
  // Native code names the function only.
  CHECK(Normalized(ErrorWithFrames("cocoa", frames)).culprit == "checkout");
  CHECK(Normalized(ErrorWithFrames("native", frames)).culprit == "checkout");
  CHECK(Normalized(ErrorWithFrames("objc", frames)).culprit == "checkout");
}

TEST_CASE("culprit: the file when there is no module, ? for a missing function", "[unit][normalize]") {
  CHECK(Normalized(ErrorWithFrames("javascript", R"([{"filename":"https://shop.example/app.js","in_app":true}])"))
            .culprit == "?(https://shop.example/app.js)");
  CHECK(Normalized(ErrorWithFrames("ruby", R"([{"filename":"app/models/user.rb","in_app":true}])")).culprit ==
        "app/models/user.rb in ?");
  CHECK(Normalized(ErrorWithFrames("native", R"([{"instruction_addr":"0x1000","in_app":true}])")).culprit == "?");
  // Without a file, a frame names nothing (outside native code) and the next in-app one is taken.
  CHECK(Normalized(ErrorWithFrames("python", R"([{"module":"app","function":"outer","in_app":true},
                                                 {"function":"inner","in_app":true}])"))
            .culprit == "app in outer");
}

TEST_CASE("culprit: without in-app frames, the newest frame", "[unit][normalize]") {
  CHECK(Normalized(ErrorWithFrames("python", R"([{"module":"a","function":"old"},
                                                 {"module":"b","function":"new","in_app":false}])"))
            .culprit == "b in new");
  // The newest frame decides even when it names nothing: Sentry does not look further.
  CHECK(Normalized(ErrorWithFrames("python", R"([{"module":"a","function":"old"},{"function":"new"}])")).culprit == "");
}

TEST_CASE("culprit: a frame's own platform wins over the event's", "[unit][normalize]") {
  CHECK(Normalized(ErrorWithFrames("javascript", R"([{"module":"app","function":"render","in_app":true},
      {"filename":"libreact.so","function":"bridge_call","platform":"native","in_app":true}])"))
            .culprit == "bridge_call");
}

TEST_CASE("culprit: the last exception with a stack trace", "[unit][normalize]") {
  auto event = Normalized(R"({"platform":"python","exception":{"values":[
      {"type":"KeyError","value":"k","stacktrace":{"frames":[{"module":"app.cache","function":"get","in_app":true}]}},
      {"type":"RuntimeError","value":"lookup failed"}]}})");
  CHECK(event.culprit == "app.cache in get");
}

TEST_CASE("culprit: a synthetic exception gets none", "[unit][normalize]") {
  auto event = Normalized(R"({"platform":"node","exception":{"values":[{"value":"not an error",
      "mechanism":{"type":"generic","synthetic":true},
      "stacktrace":{"frames":[{"module":"app","function":"main","in_app":true}]}}]},
      "request":{"url":"https://api.example/orders"}})");
  CHECK(event.culprit == "");
}

TEST_CASE("culprit: a message's own stack trace", "[unit][normalize]") {
  // raven-python's logging handler with stack=True.
  auto event = Normalized(R"({"platform":"python","message":"slow query",
      "stacktrace":{"frames":[{"module":"app.db","function":"run","in_app":true}]}})");
  CHECK(event.culprit == "app.db in run");
}

TEST_CASE("culprit: the request's URL when no frame names a place", "[unit][normalize]") {
  auto message = Normalized(R"({"message":"payment declined",
      "request":{"url":"https://shop.example/pay?order=7#summary","method":"POST"}})");
  CHECK(message.culprit == "https://shop.example/pay");
  auto frameless = Normalized(R"({"platform":"python","exception":{"values":[{"type":"E","value":"v"}]},
      "request":{"url":"https://shop.example/cart"}})");
  CHECK(frameless.culprit == "https://shop.example/cart");
  CHECK(Normalized(R"({"message":"nothing to blame"})").culprit == "");
}

TEST_CASE("culprit: the SDK's own culprit, then the transaction", "[unit][normalize]") {
  const std::string frames = R"({"platform":"python","exception":{"values":[{"type":"E","value":"v",
      "stacktrace":{"frames":[{"module":"app","function":"f","in_app":true}]}}]})";
  auto both = Normalized(frames + R"(,"culprit":"legacy.module in handler","transaction":"/orders/{id}"})");
  CHECK(both.culprit == "legacy.module in handler");
  CHECK(both.transaction == "/orders/{id}");
  auto transaction = Normalized(frames + R"(,"transaction":"/orders/{id}"})");
  CHECK(transaction.culprit == "/orders/{id}");
  // The culprit is not a transaction: the transaction tag stays unset.
  auto culprit_only = Normalized(frames + R"(,"culprit":"legacy.module in handler"})");
  CHECK(culprit_only.transaction.empty());
  CHECK(culprit_only.culprit == "legacy.module in handler");
}

TEST_CASE("culprit: cut to 200 characters with an ellipsis", "[unit][normalize]") {
  const std::string module(250, 'm');
  auto event =
      Normalized(ErrorWithFrames("python", R"([{"module":")" + module + R"(","function":"f","in_app":true}])"));
  CHECK(event.culprit == std::string(197, 'm') + "...");
  // Characters, not bytes.
  std::string wide;
  for (int i = 0; i < 250; ++i) wide += "\xc3\xa9";  // é
  auto accented = Normalized(R"({"request":{"url":"https://shop.example/)" + wide + R"("}})");
  std::string expected = "https://shop.example/";
  for (int i = 0; i < 197 - 21; ++i) expected += "\xc3\xa9";
  CHECK(accented.culprit == expected + "...");
}

TEST_CASE("title: the first line of the value, cut to 100 characters with an ellipsis", "[unit][normalize]") {
  const std::string long_value(150, 'x');
  auto event = Normalized(R"({"exception":{"values":[{"type":"ValueError","value":")" + long_value + R"("}]}})");
  CHECK(event.title == "ValueError: " + std::string(97, 'x') + "...");
  auto exact =
      Normalized(R"({"exception":{"values":[{"type":"ValueError","value":")" + std::string(100, 'y') + R"("}]}})");
  CHECK(exact.title == "ValueError: " + std::string(100, 'y'));
  auto lines = Normalized(R"({"exception":{"values":[{"type":"KeyError","value":"first\r\nsecond"}]}})");
  CHECK(lines.title == "KeyError: first");
  // Only the type when the value is empty.
  CHECK(Normalized(R"({"exception":{"values":[{"type":"StopIteration","value":""}]}})").title == "StopIteration");
}

TEST_CASE("title: a message's first line, stripped, cut to 100 characters", "[unit][normalize]") {
  CHECK(Normalized(R"({"message":"  disk full\non /var  "})").title == "disk full");
  const std::string long_message(120, 'm');
  CHECK(Normalized(R"({"logentry":{"formatted":")" + long_message + R"("}})").title == std::string(97, 'm') + "...");
  CHECK(Normalized(R"({"message":"   "})").title == "<unlabeled event>");
  CHECK(Normalized(R"({"level":"info"})").title == "<unlabeled event>");
}

TEST_CASE("title: Relay splits a value that reads 'Type: text' when there is no type", "[unit][normalize]") {
  CHECK(Normalized(R"({"exception":{"values":[{"value":"ZeroDivisionError: division by zero"}]}})").title ==
        "ZeroDivisionError: division by zero");
  // Not a type: an untyped value stays the value of an Error.
  CHECK(Normalized(R"({"exception":{"values":[{"value":"Uncaught TypeError: x"}]}})").title ==
        "Error: Uncaught TypeError: x");
}

TEST_CASE("title: an exception with neither type nor value does not count", "[unit][normalize]") {
  auto event = Normalized(R"({"message":"with frames only","exception":{"values":[
      {"stacktrace":{"frames":[{"function":"f"}]}}]}})");
  CHECK(event.title == "with frames only");
}

TEST_CASE("title: a synthetic exception without a function is <unknown>", "[unit][normalize]") {
  auto event = Normalized(R"({"exception":{"values":[{"type":"EXC_BAD_ACCESS","value":"crash",
      "mechanism":{"type":"mach","synthetic":true},"stacktrace":{"frames":[{"instruction_addr":"0x1"}]}}]}})");
  CHECK(event.title == "<unknown>");
}

TEST_CASE("metadata: an error's type, value and crash location", "[unit][normalize]") {
  auto event = Normalized(R"({"platform":"python","exception":{"values":[{"type":"ZeroDivisionError",
      "value":"division by zero","stacktrace":{"frames":[
        {"filename":"app.py","module":"__main__","function":"main","in_app":true},
        {"filename":"billing.py","abs_path":"/srv/billing.py","module":"billing","function":"divide","in_app":true},
        {"filename":"decimal.py","module":"decimal","function":"__truediv__","in_app":false}]}}]}})");
  CHECK(event.metadata.type == "ZeroDivisionError");
  CHECK(event.metadata.value == "division by zero");
  // The newest in-app frame, as for the culprit.
  CHECK(event.metadata.filename == "billing.py");
  CHECK(event.metadata.function == "divide");
  CHECK_FALSE(event.metadata.title.has_value());
  CHECK(MetadataJson(event.metadata) ==
        R"({"type":"ZeroDivisionError","value":"division by zero","filename":"billing.py","function":"divide"})");
}

TEST_CASE("metadata: the crash frame names a function; abs_path stands in for a filename", "[unit][normalize]") {
  auto event = Normalized(R"({"platform":"javascript","exception":{"values":[{"type":"TypeError","value":"x",
      "stacktrace":{"frames":[
        {"abs_path":"https://shop.example/app.js","function":"checkout","in_app":false},
        {"abs_path":"https://shop.example/vendor.js","function":"<unknown>","in_app":true},
        {"abs_path":"https://shop.example/vendor.js","in_app":true}]}}]}})");
  CHECK(event.metadata.filename == "https://shop.example/app.js");
  CHECK(event.metadata.function == "checkout");
}

TEST_CASE("metadata: the value is kept even when empty and trimmed to 1024 characters", "[unit][normalize]") {
  auto bare = Normalized(R"({"exception":{"values":[{"type":"StopIteration"}]}})");
  CHECK(MetadataJson(bare.metadata) == R"({"type":"StopIteration","value":""})");
  const std::string long_value(1100, 'v');
  auto trimmed = Normalized(R"({"exception":{"values":[{"type":"E","value":")" + long_value + R"("}]}})");
  CHECK(trimmed.metadata.value == std::string(1021, 'v') + "...");
  auto untyped = Normalized(R"({"exception":{"values":[{"value":"broken"}]}})");
  CHECK(untyped.metadata.type == "Error");
}

TEST_CASE("metadata: a synthetic exception has no type", "[unit][normalize]") {
  auto event = Normalized(R"({"platform":"node","message":"hello","exception":{"values":[{"value":"hello",
      "mechanism":{"type":"generic","synthetic":true},
      "stacktrace":{"frames":[{"filename":"/srv/app.js","module":"app","function":"main","in_app":true}]}}]}})");
  CHECK(MetadataJson(event.metadata) == R"({"value":"hello","filename":"/srv/app.js","function":"main"})");
  CHECK(event.title == "hello");
}

TEST_CASE("metadata: the crash frame of the event's only thread", "[unit][normalize]") {
  auto event = Normalized(R"({"platform":"native","exception":{"values":[{"type":"SIGABRT","value":"Abort"}]},
      "threads":{"values":[{"crashed":true,"stacktrace":{"frames":[{"function":"main","filename":"main.c"},
        {"function":"abort","filename":"abort.c"}]}}]}})");
  CHECK(event.metadata.function == "abort");
  CHECK(event.metadata.filename == "abort.c");
}

TEST_CASE("metadata: a message's title", "[unit][normalize]") {
  auto event = Normalized(R"({"message":"disk full\nsecond line"})");
  CHECK(MetadataJson(event.metadata) == R"({"title":"disk full"})");
}
