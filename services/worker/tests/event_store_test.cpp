#include <catch2/catch.hpp>

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

}  // namespace

TEST_CASE("an event's COPY row escapes COPY's specials and leaves the issue id last", "[unit][worker]") {
  ProcessedEvent processed = MakeEvent();
  processed.event.storable_json += "\r\n";
  RenderEventRow(processed);
  CHECK(processed.copy_row ==
        "3\tfc6d8c0c-43fc-4630-ad85-0ee518f1b9d0\t2023-11-14\t2023-11-14T22:13:20.000Z\t2023-11-14T22:13:19.000Z\t"
        "python\terror\tValueError: a\\tb\tapp in handler\t\t\tsentry.python\t1.9.0\t\\N\t"
        "{\"0123456789abcdef0123456789abcdef\"}\t"
        R"({"message":"line one\\nline two","path":"C:\\\\temp"})"
        "\\r\\n\t");
}

TEST_CASE("an event's COPY row carries its client IP when it has one", "[unit][worker]") {
  ProcessedEvent processed = MakeEvent();
  processed.client_ip = "198.51.100.7";
  RenderEventRow(processed);
  CHECK(processed.copy_row.find("\t1.9.0\t198.51.100.7\t{") != std::string::npos);
}
