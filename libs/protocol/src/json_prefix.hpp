// Private: parse one JSON value at the front of a buffer and report where it ended.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>

#include <optional>

#include <string_view>
#include "rookery/protocol/json_limits.hpp"

namespace rookery::protocol::internal {

/// Parses a JSON value starting at text[0] (leading whitespace skipped). Returns the offset just
/// past the value, or nullopt if no valid value starts there. Trailing bytes are left alone.
inline std::optional<std::size_t> ParseJsonPrefix(std::string_view text, rapidjson::Document& doc) {
  rapidjson::MemoryStream memory(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(memory);
  // Iterative: a header is untrusted input and must not recurse once per nesting level.
  doc.ParseStream<rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag>(
      stream);
  if (doc.HasParseError() || JsonDepth(doc) > kMaxJsonDepth) {
    return std::nullopt;
  }
  return stream.Tell();
}

}  // namespace rookery::protocol::internal
