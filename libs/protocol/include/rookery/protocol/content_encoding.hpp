// rookery::protocol — HTTP Content-Encoding of ingest bodies (sentry-protocol.md §3.1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "rookery/core/expected.hpp"
#include "rookery/protocol/ingest_error.hpp"

namespace rookery::protocol {

/// Decodes `body` per `content_encoding`: identity (also "", "identity", "utf-8"), gzip, deflate
/// (zlib, falling back to raw deflate), br (Brotli) and zstd. Output is capped at `max_output` bytes while it is being
/// produced, so a decompression bomb costs at most the cap: beyond it, kTooLarge.
Expected<std::string, IngestError> DecodeContentEncoding(std::string_view content_encoding, std::string_view body,
                                                         std::size_t max_output);
/// The same, taking the body over: an unencoded body (most envelopes) is moved, not copied.
Expected<std::string, IngestError> DecodeContentEncodingOwned(std::string_view content_encoding, std::string&& body,
                                                              std::size_t max_output);

/// The legacy store-body encodings some clients use without a Content-Encoding header (§3.2):
/// raven-node and sentry-raven send base64(zlib(JSON)), old raven-python base64(JSON). A body
/// starting with '{' is returned as is; otherwise it is base64-decoded (whitespace tolerated) and,
/// unless that yields JSON, inflated (zlib, or gzip by its magic bytes) with the same output cap.
Expected<std::string, IngestError> DecodeLegacyStoreBody(std::string body, std::size_t max_output);

}  // namespace rookery::protocol
