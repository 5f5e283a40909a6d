#include <catch2/catch.hpp>

#include <string>

#include "rookery/core/md5.hpp"

TEST_CASE("md5 matches the RFC 1321 test suite", "[unit][core]") {
  CHECK(rookery::Md5Hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(rookery::Md5Hex("a") == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(rookery::Md5Hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(rookery::Md5Hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(rookery::Md5Hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
        "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("md5 gives the same digest however the input is split", "[unit][core]") {
  const std::string text(1000, 'x');
  rookery::Md5 incremental;
  for (std::size_t i = 0; i < text.size(); i += 7) {
    incremental.Update(std::string_view(text).substr(i, 7));
  }
  CHECK(incremental.FinishHex() == rookery::Md5Hex(text));
}
