// rookery::protocol — HTTP Content-Encoding of ingest bodies (sentry-protocol.md §3.1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "rookery/core/expected.hpp"
#include "rookery/protocol/ingest_error.hpp"

namespace rookery::protocol {

/// Decodes `body` per `content_encoding`: identity (also "", "identity", "utf-8"), gzip, deflate
/// (zlib, falling back to raw deflate). Output is capped at `max_output` bytes while it is being
/// produced, so a decompression bomb costs at most the cap: beyond it, kTooLarge.
Expected<std::string, IngestError> DecodeContentEncoding(std::string_view content_encoding, std::string_view body,
                                                         std::size_t max_output);

}  // namespace rookery::protocol
