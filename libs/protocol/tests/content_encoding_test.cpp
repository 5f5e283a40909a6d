#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>
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

namespace {

std::string Brotli(const std::string& input) {
  std::string out(BrotliEncoderMaxCompressedSize(input.size()) + 16, '\0');
  std::size_t size = out.size();
  REQUIRE(BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, input.size(),
                                reinterpret_cast<const std::uint8_t*>(input.data()), &size,
                                reinterpret_cast<std::uint8_t*>(out.data())) == BROTLI_TRUE);
  out.resize(size);
  return out;
}

std::string Zstd(const std::string& input) {
  std::string out(ZSTD_compressBound(input.size()), '\0');
  const std::size_t size = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(size));
  out.resize(size);
  return out;
}

std::string Base64(const std::string& input) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < input.size(); i += 3) {
    const auto n = (static_cast<std::uint8_t>(input[i]) << 16) | (static_cast<std::uint8_t>(input[i + 1]) << 8) |
                   static_cast<std::uint8_t>(input[i + 2]);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], kAlphabet[n & 63]};
  }
  if (i + 1 == input.size()) {
    const auto n = static_cast<std::uint8_t>(input[i]) << 16;
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == input.size()) {
    const auto n = (static_cast<std::uint8_t>(input[i]) << 16) | (static_cast<std::uint8_t>(input[i + 1]) << 8);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

}  // namespace

TEST_CASE("brotli and zstd bodies, capped like the others", "[unit][protocol]") {
  const std::string json = R"({"message":"hello","level":"error"})";
  CHECK(*DecodeContentEncoding("br", Brotli(json), 1000) == json);
  CHECK(*DecodeContentEncoding("zstd", Zstd(json), 1000) == json);
  const std::string big(5 * 1024 * 1024, 'B');
  CHECK(DecodeContentEncoding("br", Brotli(big), 1024 * 1024).error().code == IngestErrorCode::kTooLarge);
  CHECK(DecodeContentEncoding("zstd", Zstd(big), 1024 * 1024).error().code == IngestErrorCode::kTooLarge);
  const std::string zstd = Zstd(std::string(10000, 'z'));
  CHECK(DecodeContentEncoding("zstd", zstd.substr(0, zstd.size() - 3), 100000).error().code ==
        IngestErrorCode::kDecodeFailed);
  CHECK(DecodeContentEncoding("br", "not brotli at all", 1000).error().code == IngestErrorCode::kDecodeFailed);
}

TEST_CASE("legacy store bodies: JSON, base64, base64(zlib) and base64(gzip)", "[unit][protocol]") {
  const std::string json = R"({"message":"from raven"})";
  CHECK(*DecodeLegacyStoreBody(json, 1000) == json);
  CHECK(*DecodeLegacyStoreBody(Base64(json), 1000) == json);
  CHECK(*DecodeLegacyStoreBody(Base64(Compress(json, MAX_WBITS)), 1000) == json);  // raven-node, sentry-raven
  CHECK(*DecodeLegacyStoreBody(Base64(Compress(json, 16 + MAX_WBITS)), 1000) == json);
  std::string wrapped = Base64(Compress(json, MAX_WBITS));
  wrapped = wrapped.substr(0, 10) + "\n" + wrapped.substr(10);  // line-wrapped base64 is tolerated
  CHECK(*DecodeLegacyStoreBody(wrapped, 1000) == json);

  CHECK(DecodeLegacyStoreBody("", 1000).error().code == IngestErrorCode::kEmptyBody);
  CHECK(DecodeLegacyStoreBody("not base64 at all!", 1000).error().code == IngestErrorCode::kBadJson);
  CHECK(DecodeLegacyStoreBody(Base64("garbage bytes"), 1000).error().code == IngestErrorCode::kDecodeFailed);
  CHECK(DecodeLegacyStoreBody(Base64(Compress(std::string(1 << 20, 'x'), MAX_WBITS)), 1000).error().code ==
        IngestErrorCode::kTooLarge);
}

TEST_CASE("the owning decoder moves unencoded bodies and decodes the rest alike", "[unit][protocol]") {
  const std::string json = R"({"message":"hello","level":"error"})";
  CHECK(*DecodeContentEncodingOwned("", std::string(json), 1000) == json);
  CHECK(DecodeContentEncodingOwned("identity", std::string(json), 10).error().code == IngestErrorCode::kTooLarge);
  CHECK(*DecodeContentEncodingOwned("gzip", Compress(json, 16 + MAX_WBITS), 1000) == json);
}

TEST_CASE("a corrupt or oversized body leaves nothing behind for the next one", "[unit][protocol]") {
  // The inflate state is reused across bodies on a thread; each body must start from scratch.
  const std::string first(5000, 'a');
  const std::string second = R"({"message":"second"})";
  std::string truncated = Compress(first, 16 + MAX_WBITS);
  truncated.resize(truncated.size() / 2);
  CHECK(DecodeContentEncoding("gzip", truncated, 100000).error().code == IngestErrorCode::kDecodeFailed);
  CHECK(*DecodeContentEncoding("gzip", Compress(second, 16 + MAX_WBITS), 1000) == second);
  CHECK(DecodeContentEncoding("gzip", Compress(first, 16 + MAX_WBITS), 100).error().code == IngestErrorCode::kTooLarge);
  CHECK(*DecodeContentEncoding("gzip", Compress(second, 16 + MAX_WBITS), 1000) == second);
  CHECK(*DecodeContentEncoding("deflate", Compress(second, -MAX_WBITS), 1000) == second);
  CHECK(*DecodeContentEncoding("deflate", Compress(second, MAX_WBITS), 1000) == second);
}
