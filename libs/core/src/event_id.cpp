#include "rookery/core/event_id.hpp"

#include <algorithm>
#include <random>

#include "rookery/core/strings.hpp"

namespace rookery {

std::optional<EventId> EventId::Parse(std::string_view text) {
  std::string hex;
  if (text.size() == 36) {
    // Dashes only at the canonical positions; anything else is not a UUID.
    for (std::size_t i = 0; i < text.size(); ++i) {
      const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_position != (text[i] == '-')) {
        return std::nullopt;
      }
      if (!dash_position) {
        hex.push_back(text[i]);
      }
    }
  } else if (text.size() == 32) {
    hex.assign(text);
  } else {
    return std::nullopt;
  }
  Bytes bytes{};
  for (std::size_t i = 0; i < kSize; ++i) {
    const int hi = HexDigitValue(hex[2 * i]);
    const int lo = HexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return EventId(bytes);
}

std::optional<EventId> EventId::FromBytes(std::string_view raw) {
  if (raw.size() != kSize) {
    return std::nullopt;
  }
  Bytes bytes{};
  std::copy(raw.begin(), raw.end(), bytes.begin());
  return EventId(bytes);
}

EventId EventId::Random() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  Bytes bytes{};
  for (std::size_t i = 0; i < kSize; i += 8) {
    std::uint64_t r = engine();
    for (std::size_t j = 0; j < 8; ++j) {
      bytes[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
    }
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return EventId(bytes);
}

std::string EventId::ToHex() const {
  std::string out;
  AppendHex(out, std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size()));
  return out;
}

std::string EventId::ToUuidString() const {
  const std::string hex = ToHex();
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

bool EventId::IsNil() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace rookery
