#include "pagination.hpp"

#include <cctype>
#include <charconv>

#include "issue_search.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/http/response.hpp"

namespace rookery::web {
namespace {

constexpr std::string_view kBase64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// A cursor carries at most a tag value (200 characters) and two numbers.
constexpr std::size_t kMaxCursorChars = 1024;

std::string Base64UrlEncode(std::string_view data) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : data) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kBase64Url[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kBase64Url[(buffer << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const auto index = kBase64Url.find(c);
    if (index == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(index);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

bool ParseInt(std::string_view text, std::int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

}  // namespace

// "<f|b>:<value>:<key>": the direction first, so the key (which may hold ':') is the rest.
std::string EncodeCursor(const Cursor& cursor) {
  return Base64UrlEncode(std::string(cursor.backward ? "b:" : "f:") + std::to_string(cursor.value) + ":" + cursor.key);
}

std::optional<Cursor> DecodeCursor(std::string_view text) {
  if (text.empty() || text.size() > kMaxCursorChars) return std::nullopt;
  const auto decoded = Base64UrlDecode(text);
  if (!decoded || decoded->size() < 4 || ((*decoded)[0] != 'f' && (*decoded)[0] != 'b') || (*decoded)[1] != ':') {
    return std::nullopt;
  }
  const std::string_view rest = std::string_view(*decoded).substr(2);
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Cursor cursor;
  cursor.backward = (*decoded)[0] == 'b';
  if (!ParseInt(rest.substr(0, colon), cursor.value)) return std::nullopt;
  cursor.key = std::string(rest.substr(colon + 1));
  if (!IsStorableText(cursor.key)) return std::nullopt;
  return cursor;
}

std::vector<std::pair<std::string, std::string>> QueryParams(std::string_view target) {
  std::vector<std::pair<std::string, std::string>> params;
  std::string_view query = http::QueryString(target);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    if (!part.empty()) {
      const auto eq = part.find('=');
      params.emplace_back(UrlDecode(part.substr(0, eq)),
                          eq == std::string_view::npos ? std::string() : UrlDecode(part.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return params;
}

std::vector<std::string> QueryValues(std::string_view target, std::string_view name) {
  std::vector<std::string> values;
  for (auto& [key, value] : QueryParams(target)) {
    if (key == name) values.push_back(std::move(value));
  }
  return values;
}

bool HasQueryParam(std::string_view target, std::string_view name) {
  for (const auto& param : QueryParams(target)) {
    if (param.first == name) return true;
  }
  return false;
}

std::optional<int> ParseLimit(std::string_view target, int fallback, int max) {
  const auto values = QueryValues(target, "limit");
  if (values.empty()) return fallback;
  std::int64_t limit = 0;
  if (!ParseInt(values.back(), limit) || limit < 1 || limit > max) return std::nullopt;
  return static_cast<int>(limit);
}

std::string LinkHeader(std::string_view base_url, std::string_view target, const PageLinks& links) {
  std::string kept;
  for (const auto& [key, value] : QueryParams(target)) {
    if (key == "cursor") continue;
    kept += UrlEncode(key) + "=" + UrlEncode(value) + "&";
  }
  const std::string prefix = std::string(base_url) + std::string(http::PathOf(target)) + "?" + kept + "cursor=";
  const auto link = [&prefix](const Cursor& cursor, const char* rel, bool results) {
    const std::string encoded = EncodeCursor(cursor);
    return "<" + prefix + encoded + ">; rel=\"" + rel + "\"; results=\"" + (results ? "true" : "false") +
           "\"; cursor=\"" + encoded + "\"";
  };
  return link(links.previous, "previous", links.previous_has_results) + ", " +
         link(links.next, "next", links.next_has_results);
}

PageLinks LinksForPage(const std::optional<Cursor>& requested, bool more, const std::optional<Cursor>& first,
                       const std::optional<Cursor>& last) {
  PageLinks links;
  const Cursor fallback = requested.value_or(Cursor{});
  links.previous = first.value_or(fallback);
  links.previous.backward = true;
  links.next = last.value_or(fallback);
  links.next.backward = false;
  if (!requested) {
    links.previous_has_results = false;
    links.next_has_results = more;
  } else if (!requested->backward) {
    // Reached by going forward, so rows lie behind it (and likewise below).
    links.previous_has_results = true;
    links.next_has_results = more;
  } else {
    links.previous_has_results = more;
    links.next_has_results = true;
  }
  return links;
}

}  // namespace rookery::web
