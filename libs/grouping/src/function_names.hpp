// Function-name cleanup that Sentry applies before grouping (`trim_function_name`): native
// symbols lose argument lists, return types, template arguments and compiler decorations; C#
// loses its signature. Other platforms are returned unchanged.
#pragma once

#include <string>
#include <string_view>

namespace rookery::grouping::detail {

enum class Family { kOther, kNative, kJavascript };

/// Sentry's "behavior family" of a platform string.
Family FamilyOfPlatform(std::string_view platform);

std::string TrimFunctionName(std::string_view function, std::string_view platform);

/// Python's `str.strip()` (Unicode whitespace).
std::string_view StripPython(std::string_view text);

}  // namespace rookery::grouping::detail
