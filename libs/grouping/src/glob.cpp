#include "glob.hpp"

#include <optional>
#include <utility>

namespace rookery::grouping::detail {
namespace {

constexpr std::size_t kMaxAlternatives = 256;

unsigned char FoldAscii(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

}  // namespace

// The parser follows globset's tokenizer decision for decision (notably when `**` is recursive and
// when it degrades to two plain stars), because rule authors rely on that exact behaviour.
class GlobParser {
 public:
  struct ParsedToken {
    Glob::TokenKind kind = Glob::TokenKind::kLiteral;
    unsigned char byte = 0;
    std::uint32_t class_index = 0;
    bool is_alternates = false;
    std::vector<std::vector<ParsedToken>> alternates;
  };

  GlobParser(std::string_view pattern, Glob& glob) : pattern_(pattern), glob_(glob) { branches_.emplace_back(); }

  Expected<std::vector<ParsedToken>, std::string> Parse() {
    while (Bump()) {
      const char c = *cur_;
      switch (c) {
        case '?': Push(Simple(Glob::TokenKind::kAny)); break;
        case '*': ParseStar(); break;
        case '[':
          if (auto error = ParseClass(); !error.empty()) return MakeUnexpected(std::move(error));
          break;
        case '{':
          alternates_stack_.push_back(branches_.size());
          branches_.emplace_back();
          break;
        case '}': {
          if (alternates_stack_.empty()) return MakeUnexpected(std::string("unopened alternate group"));
          const std::size_t start = alternates_stack_.back();
          alternates_stack_.pop_back();
          ParsedToken alternates;
          alternates.is_alternates = true;
          for (std::size_t i = start; i < branches_.size(); ++i)
            alternates.alternates.push_back(std::move(branches_[i]));
          branches_.resize(start);
          Push(std::move(alternates));
          break;
        }
        case ',':
          if (alternates_stack_.empty()) {
            Push(Literal(','));
          } else {
            branches_.emplace_back();
          }
          break;
        case '\\':
          if (!Bump()) return MakeUnexpected(std::string("dangling '\\'"));
          Push(Literal(static_cast<unsigned char>(*cur_)));
          break;
        default: Push(Literal(static_cast<unsigned char>(c))); break;
      }
    }
    if (branches_.size() > 1) return MakeUnexpected(std::string("unclosed alternate group"));
    return std::move(branches_.front());
  }

 private:
  static ParsedToken Simple(Glob::TokenKind kind) {
    ParsedToken token;
    token.kind = kind;
    return token;
  }
  static ParsedToken Literal(unsigned char byte) {
    ParsedToken token;
    token.byte = byte;
    return token;
  }
  void Push(ParsedToken token) { branches_.back().push_back(std::move(token)); }

  bool Bump() {
    prev_ = cur_;
    if (next_ >= pattern_.size()) {
      cur_.reset();
      return false;
    }
    cur_ = pattern_[next_++];
    return true;
  }
  std::optional<char> Peek() const {
    if (next_ >= pattern_.size()) return std::nullopt;
    return pattern_[next_];
  }

  void PushTwoStars() {
    Push(Simple(Glob::TokenKind::kZeroOrMore));
    Push(Simple(Glob::TokenKind::kZeroOrMore));
  }

  void ParseStar() {
    const std::optional<char> prev = prev_;
    if (Peek() != '*') {
      Push(Simple(Glob::TokenKind::kZeroOrMore));
      return;
    }
    Bump();
    if (branches_.back().empty()) {
      if (Peek().has_value() && *Peek() != '/') {
        PushTwoStars();
      } else {
        Push(Simple(Glob::TokenKind::kRecursivePrefix));
        Bump();
      }
      return;
    }
    if (prev != '/' && (branches_.size() <= 1 || (prev != ',' && prev != '{'))) {
      PushTwoStars();
      return;
    }
    bool is_suffix = false;
    const std::optional<char> next = Peek();
    if (!next.has_value()) {
      Bump();
      is_suffix = true;
    } else if ((*next == ',' || *next == '}') && branches_.size() >= 2) {
      is_suffix = true;
    } else if (*next == '/') {
      Bump();
    } else {
      PushTwoStars();
      return;
    }
    ParsedToken last = std::move(branches_.back().back());
    branches_.back().pop_back();
    if (!last.is_alternates &&
        (last.kind == Glob::TokenKind::kRecursivePrefix || last.kind == Glob::TokenKind::kRecursiveSuffix)) {
      Push(std::move(last));
    } else {
      Push(Simple(is_suffix ? Glob::TokenKind::kRecursiveSuffix : Glob::TokenKind::kRecursiveZeroOrMore));
    }
  }

  std::string ParseClass() {
    Glob::ByteSet set;
    bool negated = false;
    if (Peek() == '!' || Peek() == '^') {
      Bump();
      negated = true;
    }
    std::vector<std::pair<unsigned char, unsigned char>> ranges;
    bool first = true;
    bool in_range = false;
    while (true) {
      if (!Bump()) return "unclosed character class";
      const auto c = static_cast<unsigned char>(*cur_);
      if (c == ']') {
        if (!first) break;
        ranges.emplace_back(c, c);
      } else if (c == '-') {
        if (first) {
          ranges.emplace_back(c, c);
        } else if (in_range) {
          ranges.back().second = c;
          if (ranges.back().second < ranges.back().first) return "invalid character range";
          in_range = false;
        } else {
          in_range = true;
        }
      } else {
        if (in_range) {
          ranges.back().second = c;
          if (ranges.back().second < ranges.back().first) return "invalid character range";
        } else {
          ranges.emplace_back(c, c);
        }
        in_range = false;
      }
      first = false;
    }
    if (in_range) ranges.emplace_back('-', '-');
    for (const auto& [lo, hi] : ranges) {
      for (unsigned int c = lo; c <= hi; ++c) {
        set.Add(static_cast<unsigned char>(c));
        if (glob_.options_.case_insensitive) {
          if (c >= 'a' && c <= 'z') set.Add(static_cast<unsigned char>(c - 32));
          if (c >= 'A' && c <= 'Z') set.Add(static_cast<unsigned char>(c + 32));
        }
      }
    }
    if (negated) {
      for (auto& word : set.bits) word = ~word;
    }
    ParsedToken token;
    token.kind = Glob::TokenKind::kClass;
    token.class_index = static_cast<std::uint32_t>(glob_.classes_.size());
    glob_.classes_.push_back(set);
    Push(std::move(token));
    return {};
  }

  std::string_view pattern_;
  Glob& glob_;
  std::size_t next_ = 0;
  std::optional<char> cur_;
  std::optional<char> prev_;
  std::vector<std::vector<ParsedToken>> branches_;
  std::vector<std::size_t> alternates_stack_;
};

namespace {

using ParsedToken = GlobParser::ParsedToken;

// Expands `{a,b}` groups into whole alternatives. Branches that are empty are dropped, as globset
// drops empty alternates from its regex.
bool Expand(const std::vector<ParsedToken>& tokens, std::size_t from, std::vector<ParsedToken>& prefix,
            std::vector<std::vector<ParsedToken>>& out) {
  for (std::size_t i = from; i < tokens.size(); ++i) {
    if (!tokens[i].is_alternates) {
      prefix.push_back(tokens[i]);
      continue;
    }
    std::vector<std::vector<ParsedToken>> branches;
    for (const auto& branch : tokens[i].alternates) {
      std::vector<ParsedToken> empty;
      std::vector<std::vector<ParsedToken>> expanded;
      if (!Expand(branch, 0, empty, expanded)) return false;
      for (auto& e : expanded) {
        if (!e.empty()) branches.push_back(std::move(e));
      }
    }
    if (branches.empty()) branches.emplace_back();
    for (auto& branch : branches) {
      std::vector<ParsedToken> next = prefix;
      next.insert(next.end(), branch.begin(), branch.end());
      if (!Expand(tokens, i + 1, next, out)) return false;
      if (out.size() > kMaxAlternatives) return false;
    }
    return true;
  }
  out.push_back(std::move(prefix));
  return out.size() <= kMaxAlternatives;
}

}  // namespace

class Glob::Subject {
 public:
  Subject(std::string_view text, bool leading_slash, bool normalize_backslash, bool fold)
      : text_(text), lead_(leading_slash ? 1 : 0), normalize_backslash_(normalize_backslash), fold_(fold) {}
  std::size_t Size() const { return text_.size() + lead_; }
  bool Plain() const { return !normalize_backslash_ && !fold_; }
  std::string_view Text() const { return text_; }
  std::size_t Lead() const { return lead_; }
  unsigned char Raw(std::size_t i) const {
    if (lead_ != 0) {
      if (i == 0) return '/';
      --i;
    }
    const auto c = static_cast<unsigned char>(text_[i]);
    return (normalize_backslash_ && c == '\\') ? '/' : c;
  }
  unsigned char Folded(std::size_t i) const { return fold_ ? FoldAscii(Raw(i)) : Raw(i); }

 private:
  std::string_view text_;
  std::size_t lead_;
  bool normalize_backslash_;
  bool fold_;
};

Expected<Glob, std::string> Glob::Compile(std::string_view pattern, const GlobOptions& options) {
  Glob glob;
  glob.options_ = options;
  std::string normalized;
  if (options.path_normalize && pattern.find('\\') != std::string_view::npos) {
    normalized.assign(pattern);
    for (char& c : normalized) {
      if (c == '\\') c = '/';
    }
    pattern = normalized;
  }
  GlobParser parser(pattern, glob);
  auto parsed = parser.Parse();
  if (!parsed) return MakeUnexpected("invalid glob '" + std::string(pattern) + "': " + parsed.error());
  std::vector<std::vector<ParsedToken>> expanded;
  std::vector<ParsedToken> prefix;
  if (!Expand(*parsed, 0, prefix, expanded)) {
    return MakeUnexpected("invalid glob '" + std::string(pattern) + "': too many alternatives");
  }
  for (const auto& alternative : expanded) {
    Sequence sequence;
    int variable = 0;
    for (const auto& parsed_token : alternative) {
      Token token;
      token.kind = parsed_token.kind;
      token.byte = options.case_insensitive ? FoldAscii(parsed_token.byte) : parsed_token.byte;
      token.class_index = parsed_token.class_index;
      if (token.kind != TokenKind::kLiteral && token.kind != TokenKind::kAny && token.kind != TokenKind::kClass) {
        ++variable;
      }
      sequence.tokens.push_back(token);
    }
    sequence.needs_memo = variable >= 2;
    std::size_t i = 0;
    while (i < sequence.tokens.size() && sequence.tokens[i].kind == TokenKind::kLiteral) {
      sequence.prefix += static_cast<char>(sequence.tokens[i++].byte);
    }
    std::string run;
    for (const Token& token : sequence.tokens) {
      if (token.kind == TokenKind::kLiteral) {
        run += static_cast<char>(token.byte);
      } else {
        run.clear();
      }
      if (run.size() > sequence.required.size()) sequence.required = run;
    }
    // A leading '/' may be the virtual one of a relative path retry; do not require it.
    if (sequence.required.starts_with('/')) sequence.required.erase(0, 1);
    if (sequence.required.size() < 3 || sequence.required == sequence.prefix) sequence.required.clear();
    // globset turns a lone `**` into `^.*$`.
    if (sequence.tokens.size() == 1 && sequence.tokens[0].kind == TokenKind::kRecursivePrefix) {
      glob.match_everything_ = true;
    }
    glob.alternatives_.push_back(std::move(sequence));
  }
  return glob;
}

std::vector<std::string_view> Glob::LiteralPrefixes() const {
  std::vector<std::string_view> prefixes;
  for (const auto& sequence : alternatives_) {
    if (sequence.prefix.empty()) return {};
    prefixes.emplace_back(sequence.prefix);
  }
  return prefixes;
}

bool Glob::AnyOk(unsigned char c) const {
  if (options_.literal_separator) return c != '/';
  return options_.dot_matches_newline || c != '\n';
}

bool Glob::DotOk(unsigned char c) const {
  return options_.dot_matches_newline || c != '\n';
}

bool Glob::Matches(std::string_view value, bool leading_slash) const {
  const Subject subject(value, leading_slash, options_.path_normalize, options_.case_insensitive);
  for (const auto& sequence : alternatives_) {
    if (MatchSequence(sequence, subject)) return true;
  }
  return false;
}

bool Glob::MatchesFolded(std::string_view value, bool leading_slash) const {
  const Subject subject(value, leading_slash, false, false);
  for (const auto& sequence : alternatives_) {
    if (MatchSequence(sequence, subject)) return true;
  }
  return false;
}

bool Glob::Contains(const Subject& subject, std::string_view needle) const {
  // The needle never starts with '/', so the virtual leading slash cannot be part of a match.
  if (subject.Plain()) return subject.Text().find(needle) != std::string_view::npos;
  const std::size_t size = subject.Size();
  if (needle.size() > size) return false;
  const auto first = static_cast<unsigned char>(needle[0]);
  for (std::size_t start = 0; start + needle.size() <= size; ++start) {
    if (subject.Folded(start) != first) continue;
    std::size_t k = 1;
    while (k < needle.size() && subject.Folded(start + k) == static_cast<unsigned char>(needle[k])) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

bool Glob::MatchSequence(const Sequence& sequence, const Subject& subject) const {
  if (!sequence.prefix.empty()) {
    if (subject.Size() < sequence.prefix.size()) return false;
    for (std::size_t i = 0; i < sequence.prefix.size(); ++i) {
      if (subject.Folded(i) != static_cast<unsigned char>(sequence.prefix[i])) return false;
    }
  }
  if (!sequence.required.empty() && !Contains(subject, sequence.required)) return false;
  if (match_everything_ && sequence.tokens.size() == 1) {
    for (std::size_t i = 0; i < subject.Size(); ++i) {
      if (!DotOk(subject.Raw(i))) return false;
    }
    return true;
  }
  if (!sequence.needs_memo) return MatchFrom(sequence.tokens, 0, subject, 0, nullptr);
  std::vector<std::uint8_t> failed((sequence.tokens.size() + 1) * (subject.Size() + 1), 0);
  return MatchFrom(sequence.tokens, 0, subject, 0, &failed);
}

// Backtracking over the token list. `failed` remembers (token, position) pairs that cannot lead to a
// match, which keeps patterns with several stars linear in practice.
bool Glob::MatchFrom(const std::vector<Token>& tokens, std::size_t ti, const Subject& subject, std::size_t vi,
                     std::vector<std::uint8_t>* failed) const {
  const std::size_t size = subject.Size();
  const std::size_t entry_ti = ti;
  const std::size_t entry_vi = vi;
  if (failed != nullptr && (*failed)[entry_ti * (size + 1) + entry_vi] != 0) return false;
  const auto fail = [&] {
    if (failed != nullptr) (*failed)[entry_ti * (size + 1) + entry_vi] = 1;
    return false;
  };
  while (ti < tokens.size()) {
    const Token& token = tokens[ti];
    switch (token.kind) {
      case TokenKind::kLiteral:
        if (vi >= size || subject.Folded(vi) != token.byte) return fail();
        ++ti;
        ++vi;
        break;
      case TokenKind::kAny:
        if (vi >= size || !AnyOk(subject.Raw(vi))) return fail();
        ++ti;
        ++vi;
        break;
      case TokenKind::kClass:
        if (vi >= size || !classes_[token.class_index].Has(subject.Raw(vi))) return fail();
        ++ti;
        ++vi;
        break;
      case TokenKind::kZeroOrMore: {
        if (ti + 1 == tokens.size()) {
          for (std::size_t j = vi; j < size; ++j) {
            if (!AnyOk(subject.Raw(j))) return fail();
          }
          return true;
        }
        for (std::size_t j = vi;; ++j) {
          if (MatchFrom(tokens, ti + 1, subject, j, failed)) return true;
          if (j >= size || !AnyOk(subject.Raw(j))) return fail();
        }
      }
      case TokenKind::kRecursivePrefix: {
        // (?:/?|.*/)
        if (MatchFrom(tokens, ti + 1, subject, vi, failed)) return true;
        for (std::size_t j = vi; j < size; ++j) {
          const unsigned char c = subject.Raw(j);
          if (c == '/' && MatchFrom(tokens, ti + 1, subject, j + 1, failed)) return true;
          if (!DotOk(c)) break;
        }
        return fail();
      }
      case TokenKind::kRecursiveSuffix: {
        // /.*
        if (vi >= size || subject.Raw(vi) != '/') return fail();
        if (ti + 1 == tokens.size()) {
          for (std::size_t j = vi + 1; j < size; ++j) {
            if (!DotOk(subject.Raw(j))) return fail();
          }
          return true;
        }
        for (std::size_t j = vi + 1;; ++j) {
          if (MatchFrom(tokens, ti + 1, subject, j, failed)) return true;
          if (j >= size || !DotOk(subject.Raw(j))) return fail();
        }
      }
      case TokenKind::kRecursiveZeroOrMore: {
        // (?:/|/.*/)
        if (vi >= size || subject.Raw(vi) != '/') return fail();
        if (MatchFrom(tokens, ti + 1, subject, vi + 1, failed)) return true;
        for (std::size_t j = vi + 1; j < size; ++j) {
          const unsigned char c = subject.Raw(j);
          if (c == '/' && MatchFrom(tokens, ti + 1, subject, j + 1, failed)) return true;
          if (!DotOk(c)) break;
        }
        return fail();
      }
    }
  }
  if (vi == size) return true;
  return fail();
}

}  // namespace rookery::grouping::detail
