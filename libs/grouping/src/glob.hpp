// Glob patterns with the semantics of the Rust `globset` crate, which both of Sentry's rule
// languages use: stack-trace rules through ophio, fingerprint rules through Relay. Matching is
// bytewise like globset's `(?-u)` regexes, so `?` consumes one byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rookery/core/expected.hpp"

namespace rookery::grouping::detail {

struct GlobOptions {
  bool case_insensitive = false;   // ASCII case folding only, as in a bytes regex
  bool literal_separator = false;  // `*` and `?` stop at '/', only `**` crosses directories
  bool dot_matches_newline = false;
  bool path_normalize = false;  // '\' is '/' in the pattern and in the value
};

class Glob {
 public:
  static Expected<Glob, std::string> Compile(std::string_view pattern, const GlobOptions& options);

  /// Whole-value match. `leading_slash` matches as if the value started with an extra '/', which
  /// is how path matchers retry relative paths without allocating.
  bool Matches(std::string_view value, bool leading_slash = false) const;

  /// Like Matches, for a value that is already case-folded (ASCII lowercase) and, for
  /// path-normalizing globs, uses '/' only; lets hot paths fold each value once.
  bool MatchesFolded(std::string_view value, bool leading_slash = false) const;

  /// The (case-folded) bytes a matching value can start with, or an empty list when any byte can.
  /// Path matchers must also consider their relative-path retry: see the rule index.
  std::vector<std::string_view> LiteralPrefixes() const;

 private:
  enum class TokenKind : std::uint8_t {
    kLiteral,
    kAny,
    kZeroOrMore,
    kRecursivePrefix,
    kRecursiveSuffix,
    kRecursiveZeroOrMore,
    kClass,
  };
  struct Token {
    TokenKind kind = TokenKind::kLiteral;
    unsigned char byte = 0;
    std::uint32_t class_index = 0;
  };
  struct Sequence {
    std::vector<Token> tokens;
    bool needs_memo = false;  // two or more variable-length tokens can backtrack quadratically
    // Cheap necessary conditions checked before backtracking: the literal text the value must
    // start with, and the longest literal run it must contain (both case-folded if needed).
    std::string prefix;
    std::string required;
  };
  struct ByteSet {
    std::uint64_t bits[4] = {0, 0, 0, 0};
    bool Has(unsigned char c) const { return (bits[c >> 6] >> (c & 63)) & 1U; }
    void Add(unsigned char c) { bits[c >> 6] |= std::uint64_t{1} << (c & 63); }
  };
  class Subject;
  friend class GlobParser;

  bool MatchSequence(const Sequence& sequence, const Subject& subject) const;
  bool Contains(const Subject& subject, std::string_view needle) const;
  bool MatchFrom(const std::vector<Token>& tokens, std::size_t ti, const Subject& subject, std::size_t vi,
                 std::vector<std::uint8_t>* failed) const;
  bool AnyOk(unsigned char c) const;
  bool DotOk(unsigned char c) const;

  GlobOptions options_;
  std::vector<Sequence> alternatives_;  // `{a,b}` groups expanded; any alternative may match
  std::vector<ByteSet> classes_;
  bool match_everything_ = false;  // the pattern `**`
};

}  // namespace rookery::grouping::detail
