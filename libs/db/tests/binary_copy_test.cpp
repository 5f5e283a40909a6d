#include <catch2/catch.hpp>

#include <string>

#include "rookery/db/binary_copy.hpp"

using rookery::db::BinaryRow;

namespace {

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += kDigits[static_cast<unsigned char>(c) >> 4];
    out += kDigits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

template <class F>
std::string Field(F&& write) {
  std::string out;
  BinaryRow row(out);
  write(row);
  return Hex(out);
}

}  // namespace

TEST_CASE("binary COPY fields in PostgreSQL's wire forms", "[unit][db]") {
  CHECK(Field([](BinaryRow& r) { r.Start(19); }) == "0013");
  CHECK(Field([](BinaryRow& r) { r.Null(); }) == "ffffffff");
  CHECK(Field([](BinaryRow& r) { r.Int64(-2); }) ==
        "00000008"
        "fffffffffffffffe");
  CHECK(Field([](BinaryRow& r) { r.Bytes("ab"); }) ==
        "00000002"
        "6162");
  // timestamptz: microseconds since 2000-01-01 UTC, before it negative.
  CHECK(Field([](BinaryRow& r) { r.TimestampMillis(946684801000); }) ==
        "00000008"
        "00000000000f4240");
  CHECK(Field([](BinaryRow& r) { r.TimestampMillis(946684799999); }) ==
        "00000008"
        "fffffffffffffc18");
  // date: days since 2000-01-01 of the UTC day; a millisecond before midnight is the day before.
  CHECK(Field([](BinaryRow& r) { r.DateOfMillis(946684800000 + 86400000); }) ==
        "00000004"
        "00000001");
  CHECK(Field([](BinaryRow& r) { r.DateOfMillis(946684799999); }) ==
        "00000004"
        "ffffffff");
  CHECK(Field([](BinaryRow& r) { r.DateOfMillis(1699999999000); }) ==
        "00000004"
        "0000220e");  // 2023-11-14
  // inet: PostgreSQL's family (2 = IPv4, 3 = IPv6), bits, not cidr, length, address.
  CHECK(Field([](BinaryRow& r) { REQUIRE(r.Inet("198.51.100.7")); }) ==
        "00000008"
        "02200004"
        "c6336407");
  CHECK(Field([](BinaryRow& r) { REQUIRE(r.Inet("2001:db8::1")); }) ==
        "00000014"
        "03800010"
        "20010db8000000000000000000000001");
  CHECK(Field([](BinaryRow& r) { CHECK_FALSE(r.Inet("not an address")); }).empty());
  // text[]: one dimension, no NULLs, element type text (25), size, lower bound 1, elements.
  CHECK(Field([](BinaryRow& r) {
          r.TextArray({"ab", "c"});
        }) ==
        "0000001f"
        "00000001"
        "00000000"
        "00000019"
        "00000002"
        "00000001"
        "00000002"
        "6162"
        "00000001"
        "63");
  CHECK(Field([](BinaryRow& r) { r.Jsonb("{}"); }) ==
        "00000003"
        "01"
        "7b7d");
}
