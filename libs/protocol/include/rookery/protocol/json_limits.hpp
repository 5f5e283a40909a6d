// rookery::protocol — how deep untrusted JSON may nest. RapidJSON parses recursively unless told
// otherwise, and so do a DOM's Accept() and most tree walks: a body of 100 KB of '[' (1 KB
// gzipped) would otherwise overflow the stack. Every parse of untrusted JSON uses
// kParseIterativeFlag, and documents deeper than this are refused (relay: 400; worker: dead letter).
#pragma once

#include <rapidjson/document.h>

#include <cstddef>

namespace rookery::protocol {

/// Far deeper than any SDK's event (Sentry trims databags at depth 5 to 7).
inline constexpr std::size_t kMaxJsonDepth = 128;

/// The nesting depth of a parsed value (a scalar is 0), computed without recursion.
std::size_t JsonDepth(const rapidjson::Value& value);

}  // namespace rookery::protocol
