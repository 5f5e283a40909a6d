// A small backtracking regex engine with Python `re` semantics (ordered alternation, greedy and
// lazy quantifiers, Unicode-aware \w \s \b, lookaround), for the handful of patterns Sentry's
// grouping defines in Python. Sentry's hashes depend on which alternative wins, so a DFA engine
// (or std::regex's ECMAScript flavour, which lacks lookbehind) would not reproduce them.
//
// Patterns are compiled once at startup. Text is UTF-8 and is matched without copying.
// Supported: literals, escapes, classes, `.`, `\d\D\w\W\s\S\b\B`, groups `( )`, `(?: )`,
// `(?P<name> )`, `(?= )`, `(?! )`, fixed-width `(?<= )` and `(?<! )`, quantifiers `* + ? {n,m}`
// with lazy forms, `^`, `$`, and verbose mode `(?x)`. No backreferences.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rookery/core/expected.hpp"

namespace rookery::grouping::detail {

class PyRegex {
 public:
  static Expected<PyRegex, std::string> Compile(std::string_view pattern);

  /// Tries to match at exactly `pos` (like `re.match(text, pos)`); returns the end of the match
  /// Python would report. A pathological input that exceeds the step budget counts as no match.
  std::optional<std::size_t> MatchAt(std::string_view text, std::size_t pos) const;

  /// Remembers (instruction, position) pairs known not to lead to a match. Such a failure does not
  /// depend on where the attempt started, so one scanner can share it across start positions and
  /// stay linear on inputs that make a backtracking engine quadratic (long dotted or word-only
  /// runs). After a match ending at `end`, Forget(end) drops what the successful path marked.
  class Memo {
   public:
    void Reset(std::size_t program_size, std::size_t text_size);
    bool Active() const { return !bits_.empty(); }
    void Forget(std::size_t pos);
    /// Returns whether the pair was already seen, and marks it.
    bool TestAndSet(std::uint32_t pc, std::size_t pos);

   private:
    std::vector<std::uint64_t> bits_;
    std::size_t program_size_ = 0;
  };

  /// MatchAt for scanners: with a budget-limited plain attempt first, falling back to `memo`
  /// (allocated on first need) when an attempt gets expensive.
  std::optional<std::size_t> ScanAt(std::string_view text, std::size_t pos, Memo& memo) const;

  /// Whether a match starting at a byte equal to `c` is possible at all (cheap prefilter).
  bool MayStartWith(unsigned char c) const { return (first_bytes_[c >> 6] >> (c & 63)) & 1U; }

  /// True when `pattern` occurs anywhere in `text` (like `re.search`).
  bool Search(std::string_view text) const;

  /// `re.sub(pattern, replacement, text)` with a literal replacement.
  std::string Replace(std::string_view text, std::string_view replacement) const;

  /// `re.sub(pattern, r"\1" + suffix, text)` where group 1 is written `(?P<keep>...)`: each match
  /// is replaced by the text the `keep` group matched, followed by `suffix`.
  std::string ReplaceKeeping(std::string_view text, std::string_view suffix) const;

  struct CharClass {
    std::array<std::uint64_t, 2> ascii{};  // membership of code points below 128
    // Membership of other code points is decided by these Unicode categories.
    bool word = false;
    bool not_word = false;
    bool space = false;
    bool not_space = false;
    bool not_digit = false;
    bool negated = false;
  };
  enum class Op : std::uint8_t {
    kByte,
    kClass,
    kAny,
    kSplit,
    kJump,
    kWordBoundary,
    kNotWordBoundary,
    kBeginText,
    kEndText,
    kLook,
    kSave,
    kMatch,
  };
  struct Inst {
    Op op = Op::kMatch;
    unsigned char byte = 0;
    bool look_behind = false;
    bool look_negated = false;
    std::uint32_t x = 0;  // kSplit: preferred branch; kJump: target; kClass: class; kLook: program
    std::uint32_t y = 0;  // kSplit: other branch; kLook: lookbehind width in code points
  };
  using Program = std::vector<Inst>;

 private:
  friend class PyRegexCompiler;

  struct RunResult {
    std::size_t end;
    std::size_t mark;
  };
  std::optional<RunResult> Run(std::uint32_t program, std::string_view text, std::size_t pos,
                               std::optional<std::size_t> required_end, std::size_t& budget,
                               Memo* memo = nullptr) const;
  bool ClassMatches(const CharClass& cls, char32_t cp) const;

  std::vector<Program> programs_;  // [0] is the pattern, the rest are lookaround bodies
  std::vector<CharClass> classes_;
  std::array<std::uint64_t, 4> first_bytes_{};
};

// Unicode helpers shared with the message normalization code.
char32_t DecodeUtf8At(std::string_view text, std::size_t pos, std::size_t* length);
char32_t DecodeUtf8Before(std::string_view text, std::size_t pos, std::size_t* length);
/// Python's `str.isspace()` / `\s` for one code point.
bool IsPythonSpace(char32_t cp);
/// Python's `\w` for one code point (approximated outside Latin scripts, see the .cpp).
bool IsPythonWord(char32_t cp);

}  // namespace rookery::grouping::detail
