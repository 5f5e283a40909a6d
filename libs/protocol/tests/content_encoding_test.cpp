#include <zlib.h>
#include <catch2/catch.hpp>

#include <string>

#include "rookery/protocol/content_encoding.hpp"

using namespace rookery::protocol;

namespace {

std::string Compress(const std::string& input, int window_bits) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, input.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

}  // namespace

TEST_CASE("identity encodings, including the odd values real SDKs send", "[unit][protocol]") {
  for (const char* encoding : {"", "identity", "UTF-8", " utf-8 "}) {
    auto out = DecodeContentEncoding(encoding, "{\"a\":1}", 100);
    REQUIRE(out.has_value());
    CHECK(*out == "{\"a\":1}");
  }
}

TEST_CASE("gzip, zlib and raw deflate bodies", "[unit][protocol]") {
  const std::string json = R"({"message":"hello","level":"error"})";
  CHECK(*DecodeContentEncoding("gzip", Compress(json, 16 + MAX_WBITS), 1000) == json);
  CHECK(*DecodeContentEncoding("deflate", Compress(json, MAX_WBITS), 1000) == json);
  CHECK(*DecodeContentEncoding("deflate", Compress(json, -MAX_WBITS), 1000) == json);
}

TEST_CASE("a decompression bomb stops at the cap", "[unit][protocol]") {
  const std::string bomb = Compress(std::string(50 * 1024 * 1024, 'A'), 16 + MAX_WBITS);
  CHECK(bomb.size() < 200 * 1024);
  auto out = DecodeContentEncoding("gzip", bomb, 1024 * 1024);
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == IngestErrorCode::kTooLarge);
}

TEST_CASE("corrupt, truncated and unknown encodings", "[unit][protocol]") {
  const std::string gz = Compress(std::string(10000, 'x'), 16 + MAX_WBITS);
  CHECK(DecodeContentEncoding("gzip", "definitely not gzip", 1000).error().code == IngestErrorCode::kDecodeFailed);
  CHECK(DecodeContentEncoding("gzip", gz.substr(0, gz.size() / 2), 100000).error().code ==
        IngestErrorCode::kDecodeFailed);
  CHECK(DecodeContentEncoding("compress", "x", 1000).error().code == IngestErrorCode::kUnsupportedEncoding);
  CHECK(DecodeContentEncoding("", std::string(2000, 'x'), 1000).error().code == IngestErrorCode::kTooLarge);
}
