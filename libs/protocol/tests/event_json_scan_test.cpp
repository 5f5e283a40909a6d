#include <catch2/catch.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

#include "../src/event_json_scan.hpp"

using rookery::protocol::internal::EventJsonScan;
using rookery::protocol::internal::ReadEventJson;
using rookery::protocol::internal::ScanEventJson;
using Verdict = EventJsonScan::Verdict;

namespace {

// The one-pass scan must agree with RapidJSON's reader wherever it decides.
EventJsonScan ScanAgreeingWithReader(std::string_view json) {
  const EventJsonScan scan = ScanEventJson(json);
  std::string storage;
  const EventJsonScan read = ReadEventJson(json, storage);
  INFO(json);
  if (scan.verdict != Verdict::kUndecided) {
    CHECK(scan.verdict == read.verdict);
    if (scan.verdict == Verdict::kObject) {
      CHECK(scan.has_event_id_key == read.has_event_id_key);
      CHECK(scan.event_id_null == read.event_id_null);
      CHECK(scan.event_id_is_string == read.event_id_is_string);
      CHECK(scan.event_id == read.event_id);
    }
  }
  return scan;
}

}  // namespace

TEST_CASE("the event JSON scan finds the top-level event_id and nothing nested") {
  const auto scan = ScanAgreeingWithReader(
      R"({"extra":{"event_id":"nested"},"list":[{"event_id":1}],"event_id":"fc6d8c0c43fc4630ad850ee518f1b9d0"})");
  REQUIRE(scan.verdict == Verdict::kObject);
  CHECK(scan.has_event_id_key);
  CHECK(scan.event_id == "fc6d8c0c43fc4630ad850ee518f1b9d0");

  CHECK(ScanAgreeingWithReader(R"({"event_id":null})").event_id_null);
  CHECK_FALSE(ScanAgreeingWithReader(R"({"event_id":12})").event_id_is_string);
  CHECK_FALSE(ScanAgreeingWithReader(R"({"event_id":{"a":1}})").event_id_is_string);
  CHECK_FALSE(ScanAgreeingWithReader(R"({"event_id":"a","event_id":true})").event_id_is_string);
  CHECK_FALSE(ScanAgreeingWithReader(R"({"message":"x"})").has_event_id_key);
}

TEST_CASE("the event JSON scan accepts what the reader accepts") {
  for (const char* json : {
           R"({})",
           " \t\r\n{ \"a\" : [ 1 , -2.5e3 , 0 , -0.0E+1 , 1e308 ] , \"b\" : {} } \n",
           R"({"n":[NaN,Infinity,-Infinity,Inf,-Inf,NaN.5,Infinity.5e3,NaInf,NInf]})",
           R"({"s":"tab\tquote\"backslash\\slash\/\b\f\n\r\u00e9\ud83d\ude00 lone low \udc00"})",
           "{\"utf8\":\"caf\xc3\xa9 \xff raw bytes pass unvalidated\"}",
           R"({"long":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123"})",
           R"({"big":123456789012345678901234567890,"tiny":1e-400})",
       }) {
    CHECK(ScanAgreeingWithReader(json).verdict == Verdict::kObject);
  }
  CHECK(ScanAgreeingWithReader("[1,2]").verdict == Verdict::kNotObject);
  CHECK(ScanAgreeingWithReader("\"text\"").verdict == Verdict::kNotObject);
  CHECK(ScanAgreeingWithReader("NaN").verdict == Verdict::kNotObject);
}

TEST_CASE("the event JSON scan rejects what the reader rejects") {
  for (std::string_view json : std::initializer_list<std::string_view>{
           "",
           " ",
           "{",
           "}",
           "{}}",
           "{} {}",
           "{,}",
           R"({"a":1,})",
           "[1,]",
           R"({"a" 1})",
           R"({a:1})",
           R"({"a":01})",
           R"({"a":1.})",
           R"({"a":.5})",
           R"({"a":+1})",
           R"({"a":1e})",
           R"({"a":1e309})",
           R"({"a":-})",
           R"({"a":tru})",
           R"({"a":nul})",
           R"({"a":NaX})",
           R"({"a":Infinit})",
           R"({"a":"unterminated})",
           "{\"a\":\"control\x01char\"}",
           R"({"a":"\x"})",
           R"({"a":"\u12G4"})",
           R"({"a":"\ud800"})",
           R"({"a":"\ud800\u0041"})",
           R"({"a":"\ud800x"})",
           "{\"a\":1}\v",
           std::string_view("{\"a\":1}\0", 8),
           std::string_view("{\"a\":\"x\0y\"}", 11),
       }) {
    CHECK(ScanAgreeingWithReader(json).verdict == Verdict::kInvalid);
  }
}

TEST_CASE("the event JSON scan stops at the depth limit and leaves escaped ids to the reader") {
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  CHECK(ScanAgreeingWithReader("{\"a\":" + deep + "}").verdict == Verdict::kTooDeep);
  // An escape may spell the key or change the id: the scan does not guess.
  CHECK(ScanEventJson(R"({"ev\u0065nt_id":"fc6d8c0c43fc4630ad850ee518f1b9d0"})").verdict == Verdict::kUndecided);
  CHECK(ScanEventJson(R"({"event_id":"fc6d8c0c43fc4630ad850ee518f1b9d\u0030"})").verdict == Verdict::kUndecided);
  // Escapes anywhere else do not matter.
  CHECK(ScanAgreeingWithReader(R"({"a":{"k\u0065y":"v\n"}})").verdict == Verdict::kObject);
}
