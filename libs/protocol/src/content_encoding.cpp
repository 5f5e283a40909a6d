#include "rookery/protocol/content_encoding.hpp"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "rookery/core/strings.hpp"

namespace rookery::protocol {
namespace {

enum class InflateOutcome { kOk, kCorrupt, kTooLarge };

// An inflate state kept per thread and format and reset for each body: inflateInit allocates about
// 44 KB (the state and a 32 KB window) that every gzip request would otherwise allocate and free.
class ThreadInflater {
 public:
  explicit ThreadInflater(int window_bits) : ready_(inflateInit2(&stream_, window_bits) == Z_OK) {}
  ~ThreadInflater() {
    if (ready_) inflateEnd(&stream_);
  }
  ThreadInflater(const ThreadInflater&) = delete;
  ThreadInflater& operator=(const ThreadInflater&) = delete;

  /// A state as fresh as after inflateInit2, or nullptr.
  z_stream* Reset() { return ready_ && inflateReset(&stream_) == Z_OK ? &stream_ : nullptr; }

 private:
  z_stream stream_{};
  bool ready_;
};

z_stream* FreshInflateStream(int window_bits) {
  thread_local ThreadInflater gzip(16 + MAX_WBITS);
  thread_local ThreadInflater zlib(MAX_WBITS);
  thread_local ThreadInflater raw(-MAX_WBITS);
  return window_bits == 16 + MAX_WBITS ? gzip.Reset() : window_bits == MAX_WBITS ? zlib.Reset() : raw.Reset();
}

// window_bits: 16+MAX_WBITS for gzip, MAX_WBITS for zlib, -MAX_WBITS for raw deflate.
InflateOutcome Inflate(std::string_view input, int window_bits, std::size_t max_output, std::string& out) {
  z_stream* const state = FreshInflateStream(window_bits);
  if (state == nullptr) {
    return InflateOutcome::kCorrupt;
  }
  z_stream& stream = *state;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  std::array<char, 64 * 1024> chunk;
  int rc = Z_OK;
  InflateOutcome outcome = InflateOutcome::kOk;
  while (rc != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&stream, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      outcome = InflateOutcome::kCorrupt;  // includes Z_BUF_ERROR: input ended mid-stream
      break;
    }
    const std::size_t produced = chunk.size() - stream.avail_out;
    if (out.size() + produced > max_output) {
      outcome = InflateOutcome::kTooLarge;
      break;
    }
    out.append(chunk.data(), produced);
    if (rc == Z_OK && stream.avail_in == 0 && produced == 0) {
      outcome = InflateOutcome::kCorrupt;  // truncated: no more input and the stream is not finished
      break;
    }
  }
  return outcome;
}

InflateOutcome DecodeBrotli(std::string_view input, std::size_t max_output, std::string& out) {
  std::unique_ptr<BrotliDecoderState, decltype(&BrotliDecoderDestroyInstance)> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), &BrotliDecoderDestroyInstance);
  if (!state) return InflateOutcome::kCorrupt;
  std::size_t available_in = input.size();
  const auto* next_in = reinterpret_cast<const std::uint8_t*>(input.data());
  std::array<std::uint8_t, 64 * 1024> chunk;
  while (true) {
    std::size_t available_out = chunk.size();
    std::uint8_t* next_out = chunk.data();
    const BrotliDecoderResult rc =
        BrotliDecoderDecompressStream(state.get(), &available_in, &next_in, &available_out, &next_out, nullptr);
    const std::size_t produced = chunk.size() - available_out;
    if (out.size() + produced > max_output) return InflateOutcome::kTooLarge;
    out.append(reinterpret_cast<const char*>(chunk.data()), produced);
    if (rc == BROTLI_DECODER_RESULT_SUCCESS) return InflateOutcome::kOk;
    if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) continue;
    return InflateOutcome::kCorrupt;  // error, or input ended before the stream did
  }
}

InflateOutcome DecodeZstd(std::string_view input, std::size_t max_output, std::string& out) {
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> stream(ZSTD_createDStream(), &ZSTD_freeDStream);
  if (!stream) return InflateOutcome::kCorrupt;
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  std::array<char, 64 * 1024> chunk;
  std::size_t last_rc = 1;
  while (in.pos < in.size || last_rc != 0) {
    ZSTD_outBuffer output{chunk.data(), chunk.size(), 0};
    last_rc = ZSTD_decompressStream(stream.get(), &output, &in);
    if (ZSTD_isError(last_rc)) return InflateOutcome::kCorrupt;
    if (out.size() + output.pos > max_output) return InflateOutcome::kTooLarge;
    out.append(chunk.data(), output.pos);
    if (in.pos == in.size && output.pos < output.size && last_rc != 0) {
      return InflateOutcome::kCorrupt;  // truncated: input used up, frame not finished
    }
  }
  return InflateOutcome::kOk;
}

Expected<std::string, IngestError> ToResult(InflateOutcome outcome, std::string out, const char* what) {
  switch (outcome) {
    case InflateOutcome::kOk: return out;
    case InflateOutcome::kTooLarge: return MakeUnexpected(MakeIngestError(IngestErrorCode::kTooLarge));
    case InflateOutcome::kCorrupt: break;
  }
  return MakeUnexpected(MakeIngestError(IngestErrorCode::kDecodeFailed, what));
}

}  // namespace

namespace {

// sentry-ruby sends an empty value and sentry-java-android "UTF-8": both mean no encoding.
bool IsIdentity(std::string_view encoding) {
  return encoding.empty() || EqualsIgnoreCase(encoding, "identity") || EqualsIgnoreCase(encoding, "utf-8");
}

}  // namespace

Expected<std::string, IngestError> DecodeContentEncodingOwned(std::string_view content_encoding, std::string&& body,
                                                              std::size_t max_output) {
  if (!IsIdentity(TrimWhitespace(content_encoding))) {
    return DecodeContentEncoding(content_encoding, std::string_view(body), max_output);
  }
  if (body.size() > max_output) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kTooLarge));
  }
  return std::move(body);
}

Expected<std::string, IngestError> DecodeContentEncoding(std::string_view content_encoding, std::string_view body,
                                                         std::size_t max_output) {
  const std::string_view encoding = TrimWhitespace(content_encoding);
  if (IsIdentity(encoding)) {
    if (body.size() > max_output) {
      return MakeUnexpected(MakeIngestError(IngestErrorCode::kTooLarge));
    }
    return std::string(body);
  }
  std::string out;
  if (EqualsIgnoreCase(encoding, "gzip") || EqualsIgnoreCase(encoding, "x-gzip")) {
    const InflateOutcome outcome = Inflate(body, 16 + MAX_WBITS, max_output, out);
    return ToResult(outcome, std::move(out), "failed to decode gzip payload");
  }
  if (EqualsIgnoreCase(encoding, "deflate")) {
    InflateOutcome outcome = Inflate(body, MAX_WBITS, max_output, out);
    if (outcome == InflateOutcome::kCorrupt) {
      // Some clients send raw deflate under this name; be lenient, as the reference recommends.
      out.clear();
      outcome = Inflate(body, -MAX_WBITS, max_output, out);
    }
    return ToResult(outcome, std::move(out), "failed to decode zlib payload");
  }
  if (EqualsIgnoreCase(encoding, "br")) {
    const InflateOutcome outcome = DecodeBrotli(body, max_output, out);
    return ToResult(outcome, std::move(out), "failed to decode brotli payload");
  }
  if (EqualsIgnoreCase(encoding, "zstd")) {
    const InflateOutcome outcome = DecodeZstd(body, max_output, out);
    return ToResult(outcome, std::move(out), "failed to decode zstd payload");
  }
  return MakeUnexpected(MakeIngestError(IngestErrorCode::kUnsupportedEncoding, std::string(encoding)));
}

namespace {

int Base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // '-' and '_': the URL-safe alphabet costs nothing to accept
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  bool padding = false;
  for (const char raw : text) {
    const auto c = static_cast<unsigned char>(raw);
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int value = Base64Value(c);
    if (value < 0 || padding) return std::nullopt;  // data after padding is not base64
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return std::nullopt;  // a dangling single character
  return out;
}

}  // namespace

Expected<std::string, IngestError> DecodeLegacyStoreBody(std::string body, std::size_t max_output) {
  const std::string_view trimmed = TrimWhitespace(body);
  if (trimmed.empty()) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kEmptyBody));
  }
  if (trimmed.front() == '{') {
    return body;
  }
  auto decoded = DecodeBase64(trimmed);
  if (!decoded) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadJson, "body is neither JSON nor base64"));
  }
  const std::string_view bytes = TrimWhitespace(*decoded);
  if (!bytes.empty() && bytes.front() == '{') {
    if (decoded->size() > max_output) return MakeUnexpected(MakeIngestError(IngestErrorCode::kTooLarge));
    return std::move(*decoded);
  }
  const bool gzip_magic = decoded->size() >= 2 && static_cast<unsigned char>((*decoded)[0]) == 0x1f &&
                          static_cast<unsigned char>((*decoded)[1]) == 0x8b;
  return DecodeContentEncoding(gzip_magic ? "gzip" : "deflate", *decoded, max_output);
}

}  // namespace rookery::protocol
