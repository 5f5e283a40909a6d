#include "rule_text.hpp"

#include "py_regex.hpp"

namespace rookery::grouping::detail {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

Expected<std::string, std::string> UnescapePythonString(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 1 >= text.size()) return MakeUnexpected(std::string("\\ at end of string"));
    const char e = text[++i];
    switch (e) {
      case '\n': break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x':
      case 'u':
      case 'U': {
        const std::size_t digits = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
        char32_t cp = 0;
        for (std::size_t k = 0; k < digits; ++k) {
          const int v = i + 1 + k < text.size() ? HexValue(text[i + 1 + k]) : -1;
          if (v < 0) return MakeUnexpected(std::string("truncated \\") + e + " escape");
          cp = cp * 16 + static_cast<char32_t>(v);
        }
        if (cp > 0x10FFFF) return MakeUnexpected(std::string("illegal Unicode character"));
        i += digits;
        AppendUtf8(out, cp);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          char32_t cp = static_cast<char32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '7'; ++k) {
            cp = cp * 8 + static_cast<char32_t>(text[++i] - '0');
          }
          AppendUtf8(out, cp);
        } else if (e == 'N') {
          return MakeUnexpected(std::string("\\N{...} escapes are not supported"));
        } else {
          out += '\\';
          out += e;
        }
        break;
    }
  }
  return out;
}

std::optional<std::string_view> FingerprintVariable(std::string_view entry) {
  // \{\{\s*(\S+)\s*\}\} matched against the whole entry.
  if (!entry.starts_with("{{") || !entry.ends_with("}}") || entry.size() < 5) return std::nullopt;
  std::string_view inner = entry.substr(2, entry.size() - 4);
  std::size_t length = 0;
  while (!inner.empty() && IsPythonSpace(DecodeUtf8At(inner, 0, &length))) inner.remove_prefix(length);
  while (!inner.empty() && IsPythonSpace(DecodeUtf8Before(inner, inner.size(), &length))) inner.remove_suffix(length);
  if (inner.empty()) return std::nullopt;
  for (std::size_t i = 0; i < inner.size(); i += length) {
    if (IsPythonSpace(DecodeUtf8At(inner, i, &length))) return std::nullopt;
  }
  return inner;
}

bool IsDefaultFingerprintVariable(std::string_view entry) {
  return FingerprintVariable(entry) == "default";
}

}  // namespace rookery::grouping::detail
