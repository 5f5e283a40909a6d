// Small text helpers shared by the two rule languages and the fingerprint code.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rookery/core/expected.hpp"

namespace rookery::grouping::detail {

/// Python's `unescape_string`: backslash escapes as in a Python string literal (`\"`, `\\`, `\n`,
/// `\xNN`, `\uNNNN`, ...); unknown escapes keep their backslash.
Expected<std::string, std::string> UnescapePythonString(std::string_view text);

/// The variable name of a fingerprint entry that is exactly `{{ name }}` (any inner whitespace).
std::optional<std::string_view> FingerprintVariable(std::string_view entry);

/// `{{ default }}` in any spacing.
bool IsDefaultFingerprintVariable(std::string_view entry);

/// Appends the UTF-8 encoding of `cp`.
void AppendUtf8(std::string& out, char32_t cp);

}  // namespace rookery::grouping::detail
