// Text and numbers as PostgreSQL's jsonb accepts them.
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include "internal.hpp"

namespace rookery::normalize::detail {
namespace {

// Length of the valid UTF-8 sequence at text[i], or 0 if there is none (overlongs, surrogates and
// code points above U+10FFFF are invalid too, as PostgreSQL judges them).
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length;
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// Text PostgreSQL accepts: invalid UTF-8 becomes U+FFFD and NUL characters are removed. nullopt
// when the text is fine as it is (the common case, checked without copying).
std::optional<std::string> StorableText(std::string_view text) {
  bool clean = true;
  for (std::size_t i = 0; i < text.size() && clean;) {
    const std::size_t length = text[i] == '\0' ? 0 : Utf8SequenceLength(text, i);
    if (length == 0) clean = false;
    i += length;
  }
  if (clean) return std::nullopt;
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0') {
      ++i;
      continue;
    }
    const std::size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace

void MakeStorable(Value& value, rapidjson::Document::AllocatorType& allocator) {
  if (value.IsDouble() && !std::isfinite(value.GetDouble())) {
    value.SetNull();
  } else if (value.IsString()) {
    if (auto cleaned = StorableText({value.GetString(), value.GetStringLength()})) {
      value.SetString(cleaned->c_str(), static_cast<rapidjson::SizeType>(cleaned->size()), allocator);
    }
  } else if (value.IsArray()) {
    for (Value& item : value.GetArray()) MakeStorable(item, allocator);
  } else if (value.IsObject()) {
    for (auto& member : value.GetObject()) {
      MakeStorable(member.name, allocator);
      MakeStorable(member.value, allocator);
    }
  }
}

}  // namespace rookery::normalize::detail
