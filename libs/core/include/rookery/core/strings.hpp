// rookery::core — small string helpers used by several libraries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rookery {

std::string_view TrimWhitespace(std::string_view text);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix);
/// Decodes %XX and '+' (application/x-www-form-urlencoded); invalid escapes are kept verbatim.
std::string UrlDecode(std::string_view text);
/// Cuts to at most `max_chars` Unicode scalar values without splitting a UTF-8 sequence.
std::string TruncateUtf8(std::string_view text, std::size_t max_chars);

/// 0–15 for a hexadecimal digit (either case), -1 for anything else.
int HexDigitValue(char c);
/// Appends `bytes` as lowercase hexadecimal, two digits per byte.
void AppendHex(std::string& out, std::string_view bytes);

/// Length of the valid UTF-8 sequence at text[i], or 0 if there is none: overlongs, surrogates and
/// code points above U+10FFFF are invalid too (RFC 3629), as PostgreSQL and mail readers judge them.
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i);

/// Text made safe inside HTML elements and quoted attribute values.
std::string EscapeHtml(std::string_view text);

/// An issue's short id as the API, the UI and alert mail show it: "BACKEND-12".
std::string IssueShortId(std::string_view project_slug, std::int64_t number);

}  // namespace rookery
