// Fuzz target: body decoding (DecodeContentEncoding, DecodeLegacyStoreBody). Input: byte 0 picks
// the Content-Encoding, byte 1 the output cap, the rest is the body.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/protocol/content_encoding.hpp"

namespace rookery::protocol {
namespace {

// Every spelling the relay recognizes, plus one it must refuse.
constexpr std::array<std::string_view, 10> kEncodings = {"",     "identity", "utf-8", "gzip", "x-gzip",
                                                         "GZip", "deflate",  "br",    "zstd", "compress"};

// The caps straddle the decoders' 64 KiB output chunk, where an off-by-one would hide; 1 MiB is
// the relay's store limit. Inputs are at most a few KiB, so a bomb must expand to reach it.
constexpr std::array<std::size_t, 8> kCaps = {1 << 20, 0, 1, 100, 65535, 65536, 65537, 200000};

bool Known(std::string_view encoding) {
  return encoding != "compress";
}

bool IsIdentity(std::string_view encoding) {
  return encoding.empty() || encoding == "identity" || encoding == "utf-8";
}

void CheckDecode(std::string_view encoding, std::string_view body, std::size_t cap) {
  auto decoded = DecodeContentEncoding(encoding, body, cap);
  if (!decoded) {
    const IngestErrorCode code = decoded.error().code;
    if (!Known(encoding)) {
      ROOKERY_FUZZ_CHECK(code == IngestErrorCode::kUnsupportedEncoding);
    } else if (IsIdentity(encoding)) {
      ROOKERY_FUZZ_CHECK(code == IngestErrorCode::kTooLarge && body.size() > cap);
    } else {
      ROOKERY_FUZZ_CHECK(code == IngestErrorCode::kTooLarge || code == IngestErrorCode::kDecodeFailed);
    }
    return;
  }
  // The point of the cap: a decompression bomb costs at most `cap` bytes of output.
  ROOKERY_FUZZ_CHECK(Known(encoding));
  ROOKERY_FUZZ_CHECK(decoded->size() <= cap);
  if (IsIdentity(encoding)) ROOKERY_FUZZ_CHECK(*decoded == body);

  // The cap is exact: the same stream decodes under a cap equal to its size and is refused as too
  // large under one byte less. Not for deflate, whose zlib-then-raw fallback may legitimately
  // give another answer when the cap stops the zlib attempt before it finds the data corrupt.
  if (encoding == "deflate" || decoded->size() == cap) return;
  auto exact = DecodeContentEncoding(encoding, body, decoded->size());
  ROOKERY_FUZZ_CHECK(exact.has_value() && *exact == *decoded);
  if (decoded->empty()) return;
  auto short_by_one = DecodeContentEncoding(encoding, body, decoded->size() - 1);
  ROOKERY_FUZZ_CHECK(!short_by_one.has_value() && short_by_one.error().code == IngestErrorCode::kTooLarge);
}

void CheckLegacy(std::string_view body, std::size_t cap) {
  // The relay passes only what DecodeContentEncoding returned, which is within the cap already.
  if (body.size() > cap) return;
  auto decoded = DecodeLegacyStoreBody(std::string(body), cap);
  if (!decoded) return;
  ROOKERY_FUZZ_CHECK(decoded->size() <= cap);
  // JSON passes through untouched; only base64 bodies are rewritten.
  if (TrimWhitespace(body).starts_with('{')) ROOKERY_FUZZ_CHECK(*decoded == body);
}

void FuzzDecompress(std::string_view input) {
  if (input.size() < 2) return;
  const std::string_view encoding = kEncodings[static_cast<unsigned char>(input[0]) % kEncodings.size()];
  const std::size_t cap = kCaps[static_cast<unsigned char>(input[1]) % kCaps.size()];
  const std::string_view body = input.substr(2);
  CheckDecode(encoding, body, cap);
  CheckLegacy(body, cap);
}

}  // namespace
}  // namespace rookery::protocol

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rookery::protocol::FuzzDecompress({reinterpret_cast<const char*>(data), size});
  return 0;
}
