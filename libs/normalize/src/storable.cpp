// Text and numbers as PostgreSQL's jsonb accepts them.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "internal.hpp"
#include "rookery/core/strings.hpp"

namespace rookery::normalize::detail {
namespace {

// Whether `text` is valid UTF-8 without NUL characters. Event text is mostly ASCII, and every
// string of the event passes here: runs of ASCII are checked eight bytes at a time.
bool IsStorableText(std::string_view text) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  const char* data = text.data();
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.size() - i >= 8) {
      std::uint64_t word;
      std::memcpy(&word, data + i, sizeof word);
      // A high bit in `word` is a non-ASCII byte; one in `word - kOnes` (with none in `word`) is
      // the borrow of a zero byte.
      if (((word | (word - kOnes)) & kHighBits) == 0) {
        i += 8;
        continue;
      }
    }
    const auto byte = static_cast<unsigned char>(data[i]);
    if (byte != 0 && byte < 0x80) {  // the tail of a run, and keys shorter than a word
      ++i;
      continue;
    }
    const std::size_t length = byte == 0 ? 0 : Utf8SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

// Text PostgreSQL accepts: invalid UTF-8 becomes U+FFFD and NUL characters are removed. nullopt
// when the text is fine as it is (the common case, checked without copying).
std::optional<std::string> StorableText(std::string_view text) {
  if (IsStorableText(text)) return std::nullopt;
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
