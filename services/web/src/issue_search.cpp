#include "issue_search.hpp"

#include <cctype>
#include <cstdint>

namespace rookery::web {
namespace {

constexpr std::size_t kMaxQueryChars = 2000;
constexpr std::size_t kMaxTerms = 32;
constexpr std::size_t kMaxValueChars = 200;  // Sentry's longest tag value
constexpr std::size_t kMaxKeyChars = 200;

bool IsSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool ValidKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyChars) return false;
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) == 0 && c != '_' && c != '.' && c != '-' && c != ':' && c != '@' && c != '/') return false;
  }
  return true;
}

// Reads a "quoted" string starting at text[pos] == '"'; \" and \\ are escapes. Advances pos past
// the closing quote; false when there is none.
bool ReadQuoted(std::string_view text, std::size_t& pos, std::string& out) {
  ++pos;
  while (pos < text.size()) {
    const char c = text[pos++];
    if (c == '\\' && pos < text.size() && (text[pos] == '"' || text[pos] == '\\')) {
      out.push_back(text[pos++]);
    } else if (c == '"') {
      return true;
    } else {
      out.push_back(c);
    }
  }
  return false;
}

}  // namespace

bool IsStorableText(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code = 0;
    if ((c & 0xe0) == 0xc0) {
      length = 2;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, surrogates and values beyond Unicode are not UTF-8.
    if ((length == 2 && code < 0x80) || (length == 3 && code < 0x800) || (length == 4 && code < 0x10000) ||
        (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
      return false;
    }
    i += length;
  }
  return true;
}

std::string ParseIssueQuery(std::string_view text, IssueQuery& out) {
  if (text.size() > kMaxQueryChars) return "query: at most 2000 characters";
  if (!IsStorableText(text)) return "query: must be UTF-8 text";
  std::size_t pos = 0;
  while (true) {
    while (pos < text.size() && IsSpace(text[pos])) ++pos;
    if (pos >= text.size()) break;
    if (out.terms.size() >= kMaxTerms) return "query: at most 32 terms";
    SearchTerm term;
    if (text[pos] == '"') {
      if (!ReadQuoted(text, pos, term.value)) return "query: unterminated quote";
    } else {
      std::size_t end = pos;
      while (end < text.size() && !IsSpace(text[end]) && text[end] != '"') ++end;
      const std::string_view word = text.substr(pos, end - pos);
      const auto colon = word.find(':');
      // A key ends at the first colon; the value may contain more ("url:http://…").
      if (colon != std::string_view::npos && colon > 0 && !(colon == 1 && word[0] == '!')) {
        term.negated = word[0] == '!';
        term.key = std::string(word.substr(term.negated ? 1 : 0, colon - (term.negated ? 1 : 0)));
        if (!ValidKey(term.key)) return "query: invalid key \"" + term.key + "\"";
        pos += colon + 1;
        if (pos < text.size() && text[pos] == '"') {
          if (!ReadQuoted(text, pos, term.value)) return "query: unterminated quote";
        } else {
          end = pos;
          while (end < text.size() && !IsSpace(text[end])) ++end;
          term.value = std::string(text.substr(pos, end - pos));
          pos = end;
        }
        if (term.value.empty()) return "query: " + term.key + ": needs a value";
      } else {
        term.value = std::string(word);
        pos = end;
      }
    }
    if (term.value.size() > kMaxValueChars) return "query: values are at most 200 characters";
    if (term.key.empty() && term.value.empty()) continue;  // ""
    out.terms.push_back(std::move(term));
  }
  return "";
}

std::string SqlParams::Add(std::string value) {
  values_.push_back(std::move(value));
  return "$" + std::to_string(values_.size());
}

std::string ContainsPattern(std::string_view text) {
  std::string pattern = "%";
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  pattern.push_back('%');
  return pattern;
}

std::string AppendSearchConditions(const IssueQuery& query, std::int64_t user_id, std::string& where,
                                   SqlParams& params) {
  for (const SearchTerm& term : query.terms) {
    const char* negation = term.negated ? "NOT " : "";
    std::string condition;
    if (term.key.empty()) {
      const std::string p = params.Add(ContainsPattern(term.value));
      condition = "(i.title ILIKE " + p + " ESCAPE '\\' OR i.culprit ILIKE " + p + " ESCAPE '\\')";
    } else if (term.key == "is") {
      if (term.value == "unresolved" || term.value == "resolved" || term.value == "ignored") {
        condition = "i.status = " + params.Add(term.value);
      } else if (term.value == "assigned") {
        condition = "i.assigned_to IS NOT NULL";
      } else if (term.value == "unassigned") {
        condition = "i.assigned_to IS NULL";
      } else {
        return "query: is:" + term.value + " is not supported (unresolved, resolved, ignored, assigned, unassigned)";
      }
    } else if (term.key == "assigned") {
      if (term.value == "me") {
        condition = "i.assigned_to = " + params.Add(std::to_string(user_id)) + "::bigint";
      } else {
        condition =
            "i.assigned_to IN (SELECT id FROM users WHERE lower(email) = lower(" + params.Add(term.value) + "))";
      }
    } else if (term.key == "level") {
      condition = "i.level = " + params.Add(term.value);
    } else if (term.key == "has") {
      condition =
          "EXISTS (SELECT 1 FROM issue_tag_values t WHERE t.project_id = i.project_id AND t.issue_id = i.id "
          "AND t.key = " +
          params.Add(term.value) + ")";
    } else {
      // environment, release and every other key are tags the worker counted for the issue.
      const std::string key = params.Add(term.key);
      condition =
          "EXISTS (SELECT 1 FROM issue_tag_values t WHERE t.project_id = i.project_id AND t.issue_id = i.id "
          "AND t.key = " +
          key + " AND t.value = " + params.Add(term.value) + ")";
    }
    where += std::string(" AND ") + negation + "(" + condition + ")";
  }
  return "";
}

}  // namespace rookery::web
