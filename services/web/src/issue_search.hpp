// Sentry's issue search syntax (`query=` of the issue lists), parsed into terms and turned into SQL
// conditions built only from fixed fragments, every user-supplied text a bind parameter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rookery::web {

struct SearchTerm {
  std::string key;  // empty for free text
  std::string value;
  bool negated = false;  // `!key:value`
};

struct IssueQuery {
  std::vector<SearchTerm> terms;  // all must hold
};

/// Text PostgreSQL takes as a text parameter: valid UTF-8 without NUL. Anything a client puts in a
/// path, query string or JSON body is checked with it first, so bad bytes are a 400, not a 500.
bool IsStorableText(std::string_view text);

/// Tokens are `key:value`, `key:"quoted value"`, `!key:value`, bare words and "quoted phrases".
/// Returns an error message (for a 400), or empty.
std::string ParseIssueQuery(std::string_view text, IssueQuery& out);

/// Positional parameters ($1, $2, …) for a statement assembled at run time.
class SqlParams {
 public:
  /// Adds a parameter and returns its placeholder.
  std::string Add(std::string value);
  const std::vector<std::string>& Values() const { return values_; }

 private:
  std::vector<std::string> values_;
};

/// `text` for `ILIKE … ESCAPE '\'`, matching it anywhere: %, _ and \ lose their meaning.
std::string ContainsPattern(std::string_view text);

/// " AND (…)" for every term, over `issues i` (title, culprit, level, status, assigned_to) and
/// issue_tag_values. `user_id` is whom `assigned:me` means. Returns an error message, or empty.
std::string AppendSearchConditions(const IssueQuery& query, std::int64_t user_id, std::string& where,
                                   SqlParams& params);

}  // namespace rookery::web
