#include "rookery/protocol/content_encoding.hpp"

#include <zlib.h>

#include <array>

#include "rookery/core/strings.hpp"

namespace rookery::protocol {
namespace {

enum class InflateOutcome { kOk, kCorrupt, kTooLarge };

// window_bits: 16+MAX_WBITS for gzip, MAX_WBITS for zlib, -MAX_WBITS for raw deflate.
InflateOutcome Inflate(std::string_view input, int window_bits, std::size_t max_output, std::string& out) {
  z_stream stream{};
  if (inflateInit2(&stream, window_bits) != Z_OK) {
    return InflateOutcome::kCorrupt;
  }
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
  inflateEnd(&stream);
  return outcome;
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

Expected<std::string, IngestError> DecodeContentEncoding(std::string_view content_encoding, std::string_view body,
                                                         std::size_t max_output) {
  const std::string_view encoding = TrimWhitespace(content_encoding);
  // sentry-ruby sends an empty value and sentry-java-android "UTF-8": both mean no encoding.
  if (encoding.empty() || EqualsIgnoreCase(encoding, "identity") || EqualsIgnoreCase(encoding, "utf-8")) {
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
  return MakeUnexpected(MakeIngestError(IngestErrorCode::kUnsupportedEncoding, std::string(encoding)));
}

}  // namespace rookery::protocol
