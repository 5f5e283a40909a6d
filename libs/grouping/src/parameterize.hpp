// Message normalization for grouping: keep the first two non-empty lines, then replace
// event-specific values (ids, numbers, dates, addresses, ...) with placeholders like `<int>`.
#pragma once

#include <string>
#include <string_view>

namespace rookery::grouping::detail {

/// Sentry's `normalize_message_for_grouping`: trim to two lines (appending "..." when anything was
/// cut) and parameterize.
std::string NormalizeMessageForGrouping(std::string_view message);

/// Only the placeholder substitution.
std::string ParameterizeMessage(std::string_view message);

}  // namespace rookery::grouping::detail
