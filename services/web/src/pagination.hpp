// Keyset pagination as Sentry's API exposes it: an opaque `cursor` query parameter and a `Link`
// header with rel="previous" and rel="next", each saying whether that direction has results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rookery::web {

/// A position between two rows of a list sorted by (value, key): the page starts after it
/// (forward) or ends before it (backward). `key` breaks ties in `value` (an id, an event id, a tag
/// value), so a cursor stays valid while rows are added or removed around it.
struct Cursor {
  std::int64_t value = 0;
  std::string key;
  bool backward = false;
};

/// Opaque to clients (base64url), stable for the same position.
std::string EncodeCursor(const Cursor& cursor);
/// nullopt for anything EncodeCursor did not produce.
std::optional<Cursor> DecodeCursor(std::string_view text);

/// Every name=value pair of a request target's query string, URL-decoded, in order (repeated names
/// kept, as in `?id=1&id=2`).
std::vector<std::pair<std::string, std::string>> QueryParams(std::string_view target);
/// The values of one repeated parameter.
std::vector<std::string> QueryValues(std::string_view target, std::string_view name);
bool HasQueryParam(std::string_view target, std::string_view name);

/// `limit`: absent → `fallback`; otherwise 1..`max` or nullopt (a 400).
std::optional<int> ParseLimit(std::string_view target, int fallback, int max);

struct PageLinks {
  Cursor previous;
  bool previous_has_results = false;
  Cursor next;
  bool next_has_results = false;
};

/// Sentry's `Link` header: `<url>; rel="previous"; results="false"; cursor="…", <url>; rel="next";
/// results="true"; cursor="…"`. The URLs are `base_url` + the target's path and query with
/// `cursor` replaced.
std::string LinkHeader(std::string_view base_url, std::string_view target, const PageLinks& links);

/// The links of a page of `returned` rows. `more` says a row beyond the page exists in the
/// direction it was read; `first`/`last` are the page's first and last rows in display order.
PageLinks LinksForPage(const std::optional<Cursor>& requested, bool more, const std::optional<Cursor>& first,
                       const std::optional<Cursor>& last);

}  // namespace rookery::web
