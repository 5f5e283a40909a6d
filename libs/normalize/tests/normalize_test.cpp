#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <catch2/catch.hpp>

#include <cstdio>

#include "rookery/normalize/event.hpp"

using rookery::normalize::NormalizeEvent;

TEST_CASE("an exception event as sentry-python sends it", "[unit][normalize]") {
  auto event = NormalizeEvent(R"({
    "level":"error","platform":"python","timestamp":"2022-09-30T10:00:00.123456Z",
    "exception":{"values":[{"type":"ZeroDivisionError","value":"division by zero",
      "stacktrace":{"frames":[
        {"filename":"app.py","module":"__main__","function":"<module>","lineno":10,"in_app":true},
        {"filename":"app.py","module":"app.billing","function":"charge","lineno":4,"in_app":true},
        {"filename":"lib.py","module":"lib","function":"helper","lineno":2,"in_app":false}]}}]},
    "environment":"production","release":"app@1.0"})",
                              {.received_at_ms = 1664532001000});
  REQUIRE(event.has_value());
  CHECK(event->title == "ZeroDivisionError: division by zero");
  CHECK(event->culprit == "app.billing in charge");
  CHECK(event->event_type == "error");
  CHECK(event->platform == "python");
  CHECK(event->timestamp_ms == 1664532000123);
  CHECK(event->environment == "production");
  REQUIRE(event->exceptions.size() == 1);
  CHECK(event->exceptions[0].frames.size() == 3);
}

TEST_CASE("message shapes and defaults", "[unit][normalize]") {
  auto plain = NormalizeEvent(R"({"message":"first line\nsecond","level":30})", {.received_at_ms = 77});
  REQUIRE(plain.has_value());
  CHECK(plain->title == "first line");
  CHECK(plain->level == "warning");  // Python logging level 30
  CHECK(plain->timestamp_ms == 77);  // no timestamp: the relay's receive time
  CHECK(plain->platform == "other");
  CHECK(plain->event_type == "default");

  auto logentry = NormalizeEvent(R"({"logentry":{"message":"user %s","params":["x"],"formatted":"user x"}})", {});
  CHECK(logentry->title == "user x");

  auto empty = NormalizeEvent("{}", {});
  CHECK(empty->title == "<unlabeled event>");
  CHECK(empty->level == "error");
}

TEST_CASE("the legacy raven interfaces", "[unit][normalize]") {
  // raven-js: the culprit comes from the stack trace moved into the exception, as JavaScript writes it.
  auto event = NormalizeEvent(R"({"platform":"javascript",
      "sentry.interfaces.Exception":{"type":"TypeError","value":"x is not a function"},
      "sentry.interfaces.Stacktrace":{"frames":[{"filename":"a.js","function":"f"}]}})",
                              {});
  REQUIRE(event.has_value());
  CHECK(event->title == "TypeError: x is not a function");
  CHECK(event->exceptions[0].frames.size() == 1);
  CHECK(event->culprit == "f(a.js)");
}

TEST_CASE("documents that are not objects are refused", "[unit][normalize]") {
  CHECK_FALSE(NormalizeEvent("[]", {}).has_value());
  CHECK_FALSE(NormalizeEvent("nope", {}).has_value());
}

TEST_CASE("stored JSON is what jsonb accepts", "[unit][normalize]") {
  auto event = NormalizeEvent(std::string("{\"extra\":{\"r\":NaN,\"i\":-Infinity,\"s\":\"a\\u0000b\"},\"n\":1.5}"), {});
  REQUIRE(event.has_value());
  CHECK(event->storable_json == R"({"extra":{"r":null,"i":null,"s":"ab"},"n":1.5})");
}

TEST_CASE("synthetic exceptions do not name the issue", "[unit][normalize]") {
  // @sentry/node 11's captureMessage with its attached stack trace.
  auto message = NormalizeEvent(R"({"message":"hello from node","exception":{"values":[{"value":"hello from node",
      "mechanism":{"type":"generic","synthetic":true},"stacktrace":{"frames":[{"function":"main"}]}}]}})",
                                {});
  REQUIRE(message.has_value());
  CHECK(message->title == "hello from node");
  // Without a message, Sentry names it after the crash frame's function.
  auto crash = NormalizeEvent(R"({"exception":{"values":[{"type":"SIGSEGV","value":"Segfault",
      "mechanism":{"type":"signalhandler","synthetic":true},
      "stacktrace":{"frames":[{"function":"main","in_app":true},{"function":"memcpy","in_app":false}]}}]}})",
                              {});
  CHECK(crash->title == "main");
  // An exception the SDK sent no type for is an "Error", as Sentry shows it.
  auto untyped = NormalizeEvent(R"({"exception":{"values":[{"value":"something broke"}]}})", {});
  CHECK(untyped->title == "Error: something broke");
}

TEST_CASE("timestamps far ahead or too old fall back to the receive time", "[unit][normalize]") {
  const std::int64_t received = 1700000000000;
  CHECK(NormalizeEvent(R"({"timestamp":1700000030})", {.received_at_ms = received})->timestamp_ms == 1700000030000);
  CHECK(NormalizeEvent(R"({"timestamp":1e15})", {.received_at_ms = received})->timestamp_ms == received);
  CHECK(NormalizeEvent(R"({"timestamp":1e300})", {.received_at_ms = received})->timestamp_ms == received);
  CHECK(NormalizeEvent(R"({"timestamp":"2030-01-01T00:00:00Z"})", {.received_at_ms = received})->timestamp_ms ==
        received);
  CHECK(NormalizeEvent(R"({"timestamp":"2001-01-01T00:00:00Z"})", {.received_at_ms = received})->timestamp_ms ==
        received);
}

TEST_CASE("invalid UTF-8 becomes U+FFFD in every field and in the stored JSON", "[unit][normalize]") {
  auto event = NormalizeEvent(std::string("{\"message\":\"broken \xff\xfe bytes\",\"k\xc3\":\"\xed\xa0\x80\"}"), {});
  REQUIRE(event.has_value());
  CHECK(event->title == "broken \xEF\xBF\xBD\xEF\xBF\xBD bytes");
  CHECK(event->storable_json.find("\xff") == std::string::npos);
  CHECK(event->storable_json.find("\xed\xa0\x80") == std::string::npos);  // an encoded surrogate
  auto fine = NormalizeEvent(R"({"message":"h\u00e9llo \u2603 \ud83d\ude00"})", {});
  CHECK(fine->title == "h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x98\x80");
}

TEST_CASE("a bad byte or NUL is found at any offset of a long ASCII text", "[unit][normalize]") {
  // Long ASCII runs are checked several bytes at a time: a bad byte must be seen at every offset.
  for (std::size_t at = 0; at < 20; ++at) {
    for (const std::string& bad : {std::string("\xff"), std::string("\\u0000"), std::string("\xc3")}) {
      const std::string text = std::string(at, 'a') + bad + std::string(19 - at, 'b');
      auto event = NormalizeEvent("{\"message\":\"" + text + "\"}", {});
      REQUIRE(event.has_value());
      const std::string expected =
          std::string(at, 'a') + (bad == "\\u0000" ? "" : "\xEF\xBF\xBD") + std::string(19 - at, 'b');
      CHECK(event->message == expected);
    }
    const std::string valid = std::string(at, 'a') + "\xc3\xa9\xe2\x98\x83" + std::string(19 - at, 'b');
    CHECK(NormalizeEvent("{\"message\":\"" + valid + "\"}", {})->message == valid);
  }
}

TEST_CASE("the storable JSON is written exactly as RapidJSON's Writer writes it", "[unit][normalize]") {
  // The storable JSON has its own string writer; RapidJSON's output is a fixed point of parsing and
  // writing it again, so any difference in escaping shows up here.
  const auto rewritten = [](const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    doc.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
  };
  for (int c = 1; c < 0x80; ++c) {
    for (std::size_t at : {0, 3, 7, 8, 9, 16, 19}) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      const std::string text = std::string(at, 'a') + escaped + "\xc3\xa9" + std::string(19 - at, 'b');
      auto event = NormalizeEvent("{\"message\":\"" + text + "\",\"extra\":{\"k" + escaped + "\":1.5}}", {});
      REQUIRE(event.has_value());
      CHECK(event->storable_json == rewritten(event->storable_json));
    }
  }
}

TEST_CASE("logentry params are filled into the message as Sentry formats it", "[unit][normalize]") {
  const auto message_of = [](const char* json) {
    auto event = NormalizeEvent(json, {.received_at_ms = 1'700'000'000'000});
    REQUIRE(event.has_value());
    return std::pair{event->message, event->storable_json};
  };
  auto [positional, stored] = message_of(R"({"logentry":{"message":"User %s failed %d times","params":["bob",3]}})");
  CHECK(positional == "User bob failed 3 times");
  CHECK(stored.find(R"("formatted":"User bob failed 3 times")") != std::string::npos);
  CHECK(
      message_of(R"({"logentry":{"message":"%(who)s paid %(amount).2f","params":{"who":"ann","amount":2.5}}})").first ==
      "ann paid 2.5");
  CHECK(message_of(R"({"message":{"message":"100%% of %s","params":["disk"]}})").first == "100% of disk");
  CHECK(message_of(R"({"logentry":{"message":"%s and %s","params":["one"]}})").first == "one and %s");
  CHECK(message_of(R"({"logentry":{"message":"flags %s %s","params":[true,null]}})").first == "flags True None");
  // The SDK's own formatting wins.
  CHECK(message_of(R"({"logentry":{"message":"%s","params":["x"],"formatted":"given"}})").first == "given");
  // A secret parameter is scrubbed before it is formatted in.
  auto [secret, secret_stored] =
      message_of(R"({"logentry":{"message":"card %s declined","params":["4111 1111 1111 1111"]}})");
  CHECK(secret.find("4111") == std::string::npos);
  CHECK(secret_stored.find("4111") == std::string::npos);
}
