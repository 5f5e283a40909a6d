#include <catch2/catch.hpp>

#include "rookery/core/time.hpp"

using rookery::FormatIso8601Millis;
using rookery::ParseIso8601Millis;

TEST_CASE("ISO 8601 timestamps in the shapes SDKs send", "[unit][core]") {
  CHECK(ParseIso8601Millis("1970-01-01T00:00:00Z") == 0);
  CHECK(ParseIso8601Millis("2011-05-02T17:41:36Z") == 1304358096000);
  CHECK(ParseIso8601Millis("2011-05-02T17:41:36") == 1304358096000);          // no zone means UTC
  CHECK(ParseIso8601Millis("2011-05-02T17:41:36.123456Z") == 1304358096123);  // microseconds truncated
  CHECK(ParseIso8601Millis("2011-05-02T19:41:36+02:00") == 1304358096000);
  CHECK_FALSE(ParseIso8601Millis("2011-13-02T17:41:36Z").has_value());
  CHECK_FALSE(ParseIso8601Millis("yesterday").has_value());
  CHECK_FALSE(ParseIso8601Millis("2011-05-02T17:41:36Zjunk").has_value());
}

TEST_CASE("formatting round-trips", "[unit][core]") {
  CHECK(FormatIso8601Millis(1304358096123) == "2011-05-02T17:41:36.123Z");
  CHECK(ParseIso8601Millis(FormatIso8601Millis(1700000000999)) == 1700000000999);
  CHECK(FormatIso8601Millis(0) == "1970-01-01T00:00:00.000Z");
  CHECK(FormatIso8601Millis(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(FormatIso8601Millis(951782400007) == "2000-02-29T00:00:00.007Z");
  CHECK(FormatIso8601Millis(253402300799999) == "9999-12-31T23:59:59.999Z");
  CHECK(FormatIso8601Millis(253402300800000) == "10000-01-01T00:00:00.000Z");
  CHECK(FormatIso8601Millis(-62167219200001) == "-001-12-31T23:59:59.999Z");
}
