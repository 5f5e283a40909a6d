#include <zstd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "event_store.hpp"

using namespace rookery::worker;

namespace {

ProcessedEvent MakeEvent() {
  ProcessedEvent processed;
  processed.raw.event_id = *rookery::EventId::Parse("fc6d8c0c43fc4630ad850ee518f1b9d0");
  processed.raw.project_id = 3;
  processed.raw.received_at_ms = 1700000000000;
  processed.raw.sdk_name = "sentry.python";
  processed.raw.sdk_version = "1.9.0";
  processed.event.timestamp_ms = 1699999999000;
  processed.event.platform = "python";
  processed.event.level = "error";
  processed.event.title = "ValueError: a\tb";
  processed.event.culprit = "app in handler";
  processed.event.storable_json = R"({"message":"line one\nline two","path":"C:\\temp"})";
  processed.grouping.hashes = {"0123456789abcdef0123456789abcdef"};
  return processed;
}

std::vector<std::string> Fields(const std::string& row) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t tab = row.find('\t'); tab != std::string::npos; tab = row.find('\t', start)) {
    fields.push_back(row.substr(start, tab - start));
    start = tab + 1;
  }
  fields.push_back(row.substr(start));
  return fields;
}

// COPY's text form of a bytea (`\\x` + hex) back to the JSON the worker compressed.
std::string DecompressPayloadField(const std::string& field) {
  REQUIRE(field.rfind("\\\\x", 0) == 0);
  std::string compressed;
  for (std::size_t i = 3; i + 1 < field.size(); i += 2) {
    compressed += static_cast<char>(std::stoi(field.substr(i, 2), nullptr, 16));
  }
  std::string json(static_cast<std::size_t>(ZSTD_getFrameContentSize(compressed.data(), compressed.size())), '\0');
  REQUIRE(ZSTD_decompress(json.data(), json.size(), compressed.data(), compressed.size()) == json.size());
  return json;
}

}  // namespace

TEST_CASE("an event's COPY row escapes COPY's specials, compresses the payload, leaves the issue id last",
          "[unit][worker]") {
  ProcessedEvent processed = MakeEvent();
  processed.event.storable_json += "\r\n";
  processed.tags = {{"browser", "Firefox\t1"}, {"level", "error"}};
  RenderEventRow(processed);
  CHECK(processed.copy_row.rfind(
            "3\tfc6d8c0c-43fc-4630-ad85-0ee518f1b9d0\t2023-11-14\t2023-11-14T22:13:20.000Z\t2023-11-14T22:13:19.000Z\t"
            "python\terror\tValueError: a\\tb\tapp in handler\t\t\tsentry.python\t1.9.0\t\\N\t"
            "{\"0123456789abcdef0123456789abcdef\"}\t\\N\t",
            0) == 0);
  const auto fields = Fields(processed.copy_row);
  REQUIRE(fields.size() == 19);  // 18 columns and the empty tail the issue id is appended to
  CHECK(DecompressPayloadField(fields[16]) == processed.event.storable_json);
  CHECK(fields[17] == R"({"browser":"Firefox\\t1","level":"error"})");
  CHECK(fields[18].empty());
}

TEST_CASE("an event's COPY row carries its client IP when it has one", "[unit][worker]") {
  ProcessedEvent processed = MakeEvent();
  processed.client_ip = "198.51.100.7";
  RenderEventRow(processed);
  CHECK(processed.copy_row.find("\t1.9.0\t198.51.100.7\t{") != std::string::npos);
}
