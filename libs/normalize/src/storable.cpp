// Text and numbers as PostgreSQL's jsonb accepts them.
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include "internal.hpp"
#include "rookery/core/strings.hpp"

namespace rookery::normalize::detail {
namespace {

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
