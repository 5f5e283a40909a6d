#include <zstd.h>

#include <catch2/catch.hpp>
#include <optional>
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

// A binary COPY tuple's fields (nullopt for NULL), after its field count.
std::vector<std::optional<std::string>> Fields(const std::string& row, std::int16_t& count) {
  const auto read = [&](std::size_t at, std::size_t bytes) {
    std::int64_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i) value = (value << 8) | static_cast<unsigned char>(row.at(at + i));
    return value;
  };
  count = static_cast<std::int16_t>(read(0, 2));
  std::vector<std::optional<std::string>> fields;
  for (std::size_t at = 2; at < row.size();) {
    const auto length = static_cast<std::int32_t>(read(at, 4));
    at += 4;
    if (length < 0) {
      fields.emplace_back(std::nullopt);
      continue;
    }
    fields.emplace_back(row.substr(at, static_cast<std::size_t>(length)));
    at += static_cast<std::size_t>(length);
  }
  return fields;
}

std::string Decompress(const std::string& compressed) {
  std::string json(static_cast<std::size_t>(ZSTD_getFrameContentSize(compressed.data(), compressed.size())), '\0');
  REQUIRE(ZSTD_decompress(json.data(), json.size(), compressed.data(), compressed.size()) == json.size());
  return json;
}

}  // namespace

TEST_CASE("an event's binary COPY row has every column but the issue id, the payload compressed", "[unit][worker]") {
  ProcessedEvent processed = MakeEvent();
  processed.event.storable_json += "\r\n";
  processed.tags = {{"browser", "Firefox\t1"}, {"level", "error"}};
  RenderEventRow(processed);
  std::int16_t count = 0;
  const auto fields = Fields(processed.copy_row, count);
  CHECK(count == 19);
  REQUIRE(fields.size() == 18);  // the issue id is appended when the batch has resolved it
  CHECK(fields[0] == std::string("\0\0\0\0\0\0\0\3", 8));
  CHECK(fields[1] == std::string(processed.raw.event_id.AsBytes()));
  CHECK(fields[2] == std::string("\0\0\x22\x0e", 4));  // 2023-11-14: day 8718 after 2000-01-01
  for (const std::size_t i : {3, 4}) REQUIRE(fields[i]->size() == 8);
  CHECK(fields[5] == "python");
  CHECK(fields[7] == "ValueError: a\tb");  // no escaping in the binary form
  CHECK(fields[10] == "");
  CHECK(fields[12] == "1.9.0");
  CHECK_FALSE(fields[13].has_value());  // no client IP
  CHECK(fields[14]->find("0123456789abcdef0123456789abcdef") != std::string::npos);
  CHECK_FALSE(fields[15].has_value());  // data: rows before migration 0011 only
  CHECK(Decompress(*fields[16]) == processed.event.storable_json);
  CHECK(fields[17] ==
        "\1"
        R"({"browser":"Firefox\t1","level":"error"})");
}

TEST_CASE("an event's COPY row carries its client IP when it has one", "[unit][worker]") {
  ProcessedEvent processed = MakeEvent();
  processed.client_ip = "198.51.100.7";
  RenderEventRow(processed);
  std::int16_t count = 0;
  const auto fields = Fields(processed.copy_row, count);
  CHECK(fields[13] == std::string("\2\x20\0\4\xc6\x33\x64\x07", 8));
}
