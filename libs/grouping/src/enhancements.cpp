#include "enhancements.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "py_regex.hpp"
#include "rule_text.hpp"

namespace rookery::grouping::detail {

std::string_view BaseStacktraceRulesText();  // enhancement_base.cpp

namespace {

using Field = CompiledStacktraceMatcher::Field;

struct KeyInfo {
  std::string_view alias;
  std::string_view canonical;
};

// Python's MATCHERS table for stack-trace rules (plus `stack.filename`, which only the built-in
// base uses).
constexpr KeyInfo kKeys[] = {
    {"stack.module", "module"},
    {"stack.abs_path", "path"},
    {"stack.package", "package"},
    {"stack.function", "function"},
    {"error.type", "type"},
    {"error.value", "value"},
    {"error.mechanism", "mechanism"},
    {"module", "module"},
    {"path", "path"},
    {"package", "package"},
    {"function", "function"},
    {"category", "category"},
    {"family", "family"},
    {"app", "app"},
    {"stack.filename", "filename"},
};

std::optional<std::string_view> CanonicalKey(std::string_view key, bool allow_filename) {
  for (const auto& info : kKeys) {
    if (info.alias == key) {
      if (info.canonical == "filename" && !allow_filename) return std::nullopt;
      return info.canonical;
    }
  }
  return std::nullopt;
}

std::optional<Field> FieldOf(std::string_view canonical) {
  if (canonical == "function") return Field::kFunction;
  if (canonical == "module") return Field::kModule;
  if (canonical == "category") return Field::kCategory;
  if (canonical == "path") return Field::kPath;
  if (canonical == "package") return Field::kPackage;
  if (canonical == "filename") return Field::kFilename;
  if (canonical == "family") return Field::kFamily;
  if (canonical == "app") return Field::kApp;
  if (canonical == "type") return Field::kType;
  if (canonical == "value") return Field::kValue;
  if (canonical == "mechanism") return Field::kMechanism;
  return std::nullopt;
}

std::uint8_t ParseFamilies(std::string_view pattern) {
  std::uint8_t bits = 0;
  while (true) {
    const std::size_t comma = pattern.find(',');
    const std::string_view item = pattern.substr(0, comma);
    if (item == "other") bits |= kFamilyOther;
    if (item == "native") bits |= kFamilyNative;
    if (item == "javascript") bits |= kFamilyJavascript;
    if (item == "all") bits = kFamilyAll;
    if (comma == std::string_view::npos) break;
    pattern.remove_prefix(comma + 1);
  }
  return bits;
}

// Evaluation order inside a rule: the cheap and selective checks first. The result does not
// depend on the order (all matchers must hold), only the speed does.
int Cost(const CompiledStacktraceMatcher& matcher) {
  switch (matcher.field) {
    case Field::kFamily: return 0;
    case Field::kApp: return 1;
    case Field::kCategory: return 2;
    case Field::kModule: return 3;
    case Field::kFunction: return 4;
    case Field::kPackage: return 5;
    case Field::kFilename: return 6;
    case Field::kPath: return 7;
    default: return 8;
  }
}

std::string RangeText(StacktraceAction::Range range) {
  switch (range) {
    case StacktraceAction::Range::kUp: return "^";
    case StacktraceAction::Range::kDown: return "v";
    case StacktraceAction::Range::kSelf: return "";
  }
  return "";
}

std::string ActionText(const StacktraceAction& action) {
  switch (action.kind) {
    case StacktraceAction::Kind::kApp: return RangeText(action.range) + (action.flag ? "+" : "-") + "app";
    case StacktraceAction::Kind::kGroup: return RangeText(action.range) + (action.flag ? "+" : "-") + "group";
    case StacktraceAction::Kind::kMaxFrames: return "max-frames=" + std::to_string(action.value);
    case StacktraceAction::Kind::kMinFrames: return "min-frames=" + std::to_string(action.value);
    case StacktraceAction::Kind::kCategory: return "category=" + action.category;
  }
  return "";
}

// ophio's Display for a rule: exception matchers, frame matchers, then actions.
std::string RuleText(const std::vector<StacktraceMatcher>& matchers, const std::vector<StacktraceAction>& actions) {
  std::vector<std::string> parts;
  const auto matcher_text = [](const StacktraceMatcher& m) {
    std::string core = (m.negated ? "!" : "") + m.key + ":" + m.pattern;
    if (m.offset == FrameOffset::kCaller) return "[" + core + "] |";
    if (m.offset == FrameOffset::kCallee) return "| [" + core + "]";
    return core;
  };
  for (const auto& m : matchers) {
    if (m.key == "type" || m.key == "value" || m.key == "mechanism") parts.push_back(matcher_text(m));
  }
  for (const auto& m : matchers) {
    if (!(m.key == "type" || m.key == "value" || m.key == "mechanism")) parts.push_back(matcher_text(m));
  }
  for (const auto& a : actions) parts.push_back(ActionText(a));
  std::string text;
  for (const auto& part : parts) {
    if (!text.empty()) text += ' ';
    text += part;
  }
  return text;
}

Expected<CompiledStacktraceMatcher, std::string> CompileMatcher(const StacktraceMatcher& matcher) {
  CompiledStacktraceMatcher compiled;
  const auto field = FieldOf(matcher.key);
  if (!field) return MakeUnexpected("Unknown matcher '" + matcher.key + "'");
  compiled.field = *field;
  compiled.negated = matcher.negated;
  compiled.offset = matcher.offset;
  switch (*field) {
    case Field::kFamily: compiled.families = ParseFamilies(matcher.pattern); break;
    case Field::kApp:
      // Like Sentry, an `app:` value that is not a boolean is accepted and never matches.
      if (matcher.pattern == "1" || matcher.pattern == "true" || matcher.pattern == "yes") {
        compiled.app = true;
      } else if (matcher.pattern == "0" || matcher.pattern == "false" || matcher.pattern == "no") {
        compiled.app = false;
      } else {
        compiled.app_never_matches = true;
      }
      break;
    default: {
      // Path-like fields ignore case and keep `*` within a path segment; function, module,
      // category and the exception fields are matched case-sensitively. A pattern that is not a
      // valid glob is accepted and never matches, as in Sentry.
      const bool path_like = *field == Field::kPath || *field == Field::kPackage || *field == Field::kFilename;
      GlobOptions options;
      options.case_insensitive = path_like;
      options.literal_separator = path_like;
      options.path_normalize = path_like;
      if (auto glob = Glob::Compile(matcher.pattern, options)) compiled.glob = std::move(*glob);
      break;
    }
  }
  return compiled;
}

}  // namespace

}  // namespace rookery::grouping::detail

namespace rookery::grouping {

Expected<StacktraceRule, std::string> StacktraceRule::Create(std::vector<StacktraceMatcher> matchers,
                                                             std::vector<StacktraceAction> actions) {
  if (matchers.empty()) return MakeUnexpected(std::string("a stack-trace rule needs at least one matcher"));
  if (actions.empty()) return MakeUnexpected(std::string("a stack-trace rule needs at least one action"));
  auto rule = std::make_shared<detail::CompiledStacktraceRule>();
  for (auto& matcher : matchers) {
    if (const auto canonical = detail::CanonicalKey(matcher.key, true)) matcher.key = std::string(*canonical);
    auto compiled = detail::CompileMatcher(matcher);
    if (!compiled) return MakeUnexpected(compiled.error());
    const bool exception_field = compiled->field == detail::Field::kType || compiled->field == detail::Field::kValue ||
                                 compiled->field == detail::Field::kMechanism;
    if (exception_field) {
      rule->exception_matchers.push_back(std::move(*compiled));
    } else {
      if (compiled->field == detail::Field::kFamily && !compiled->negated && compiled->offset == FrameOffset::kSelf) {
        rule->family_mask &= compiled->families;
      }
      rule->frame_matchers.push_back(std::move(*compiled));
    }
  }
  std::stable_sort(rule->frame_matchers.begin(), rule->frame_matchers.end(),
                   [](const auto& a, const auto& b) { return detail::Cost(a) < detail::Cost(b); });
  for (const auto& action : actions) {
    if (action.kind == StacktraceAction::Kind::kApp || action.kind == StacktraceAction::Kind::kCategory) {
      rule->has_classifier_actions = true;
    } else {
      rule->has_contributes_actions = true;
    }
  }
  rule->text = detail::RuleText(matchers, actions);
  rule->matchers = std::move(matchers);
  rule->actions = std::move(actions);
  StacktraceRule out;
  out.compiled_ = std::move(rule);
  return out;
}

const std::vector<StacktraceMatcher>& StacktraceRule::Matchers() const {
  return compiled_->matchers;
}
const std::vector<StacktraceAction>& StacktraceRule::Actions() const {
  return compiled_->actions;
}
std::string StacktraceRule::Text() const {
  return compiled_->text;
}

}  // namespace rookery::grouping

namespace rookery::grouping::detail {

// ---------------------------------------------------------------------------------------------
// Parser for Sentry's stack-trace rule grammar (a PEG; see enhancer/parser.py). Whitespace between
// tokens is spaces only, a rule is `[caller] matcher+ [callee] action+`, and anything after the
// actions on the same line must be another line item (a comment).

namespace {

class RuleParser {
 public:
  RuleParser(std::string_view text, bool allow_filename) : text_(text), allow_filename_(allow_filename) {}

  Expected<std::vector<StacktraceRule>, std::string> Parse() {
    std::vector<StacktraceRule> rules;
    // line = _ (comment / rule / empty) newline?; a line that consumes nothing ends the input.
    while (pos_ < text_.size()) {
      const std::size_t line_begin = pos_;
      SkipSpaces();
      if (At('#')) {
        while (pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
      } else if (pos_ < text_.size() && !At('\n') && !At('\r')) {
        const std::size_t rule_begin = pos_;
        if (auto rule = ParseRule()) {
          rules.push_back(std::move(*rule));
        } else {
          if (!error_.empty()) return MakeUnexpected(error_);
          pos_ = rule_begin;
        }
      }
      if (At('\n') || At('\r')) ++pos_;
      if (pos_ == line_begin) return SyntaxError(pos_);
    }
    return rules;
  }

 private:
  bool At(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  void SkipSpaces() {
    while (At(' ')) ++pos_;
  }
  bool Literal(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) == literal) {
      pos_ += literal.size();
      return true;
    }
    return false;
  }

  Unexpected<std::string> SyntaxError(std::size_t pos) const {
    std::string context(text_.substr(pos, 33));
    if (context.size() == 33) context = context.substr(0, 32) + "...";
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < pos && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return MakeUnexpected("Invalid syntax near \"" + context + "\" (line " + std::to_string(line) + ", column " +
                          std::to_string(column) + ")");
  }

  static bool IsIdentChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  }

  std::optional<std::string> Ident() {
    const std::size_t begin = pos_;
    while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
    if (pos_ == begin) return std::nullopt;
    return std::string(text_.substr(begin, pos_ - begin));
  }

  std::optional<StacktraceMatcher> FrameMatcher(FrameOffset offset) {
    const std::size_t begin = pos_;
    SkipSpaces();
    StacktraceMatcher matcher;
    matcher.offset = offset;
    if (At('!')) {
      matcher.negated = true;
      ++pos_;
    }
    std::optional<std::string> key = Ident();
    if (!key && At('"')) key = QuotedIdent();
    if (!key || !At(':')) {
      pos_ = begin;
      return std::nullopt;
    }
    ++pos_;
    std::optional<std::string> argument = QuotedArgument();
    if (!argument) argument = UnquotedArgument();
    if (!argument) {
      pos_ = begin;
      return std::nullopt;
    }
    matcher.key = *key;
    matcher.pattern = std::move(*argument);
    return matcher;
  }

  std::optional<std::string> QuotedIdent() {
    const std::size_t begin = pos_;
    ++pos_;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (IsIdentChar(text_[pos_]) || text_[pos_] == ':')) ++pos_;
    if (pos_ == start || !At('"')) {
      pos_ = begin;
      return std::nullopt;
    }
    std::string key(text_.substr(start, pos_ - start));
    ++pos_;
    while (!key.empty() && key.front() == '!') key.erase(0, 1);
    return key;
  }

  std::optional<std::string> QuotedArgument() {
    if (!At('"')) return std::nullopt;
    std::size_t p = pos_ + 1;
    while (p < text_.size() && text_[p] != '"') {
      if (text_[p] == '\\') {
        if (p + 1 >= text_.size()) return std::nullopt;
        p += 2;
      } else {
        ++p;
      }
    }
    if (p >= text_.size()) return std::nullopt;
    auto unescaped = UnescapePythonString(text_.substr(pos_ + 1, p - pos_ - 1));
    if (!unescaped) {
      error_ = unescaped.error();
      return std::nullopt;
    }
    pos_ = p + 1;
    return std::move(*unescaped);
  }

  std::optional<std::string> UnquotedArgument() {
    const std::size_t begin = pos_;
    while (pos_ < text_.size()) {
      std::size_t length = 0;
      const char32_t cp = DecodeUtf8At(text_, pos_, &length);
      if (IsPythonSpace(cp)) break;
      pos_ += length;
    }
    if (pos_ == begin) return std::nullopt;
    return std::string(text_.substr(begin, pos_ - begin));
  }

  std::optional<StacktraceMatcher> CallerMatcher() {
    const std::size_t begin = pos_;
    SkipSpaces();
    if (Literal("[")) {
      SkipSpaces();
      if (auto inner = FrameMatcher(FrameOffset::kCaller)) {
        SkipSpaces();
        if (Literal("]")) {
          SkipSpaces();
          if (Literal("|")) return inner;
        }
      }
    }
    pos_ = begin;
    return std::nullopt;
  }

  std::optional<StacktraceMatcher> CalleeMatcher() {
    const std::size_t begin = pos_;
    SkipSpaces();
    if (Literal("|")) {
      SkipSpaces();
      if (Literal("[")) {
        SkipSpaces();
        if (auto inner = FrameMatcher(FrameOffset::kCallee)) {
          SkipSpaces();
          if (Literal("]")) return inner;
        }
      }
    }
    pos_ = begin;
    return std::nullopt;
  }

  std::optional<StacktraceAction> Action() {
    const std::size_t begin = pos_;
    SkipSpaces();
    StacktraceAction action;
    // flag_action = range? flag ("group" / "app")
    if (At('^') || At('v')) {
      action.range = At('^') ? StacktraceAction::Range::kUp : StacktraceAction::Range::kDown;
      ++pos_;
    }
    if (At('+') || At('-')) {
      action.flag = At('+');
      ++pos_;
      if (Literal("group")) {
        action.kind = StacktraceAction::Kind::kGroup;
        return action;
      }
      if (Literal("app")) {
        action.kind = StacktraceAction::Kind::kApp;
        return action;
      }
    }
    // var_action = var_name _ "=" _ ident
    pos_ = begin;
    SkipSpaces();
    std::string_view name;
    for (const std::string_view candidate : {"max-frames", "min-frames", "category"}) {
      if (Literal(candidate)) {
        name = candidate;
        break;
      }
    }
    if (!name.empty()) {
      SkipSpaces();
      if (Literal("=")) {
        SkipSpaces();
        if (auto value = Ident()) {
          StacktraceAction var;
          if (name == "category") {
            var.kind = StacktraceAction::Kind::kCategory;
            var.category = *value;
            return var;
          }
          var.kind = name == "max-frames" ? StacktraceAction::Kind::kMaxFrames : StacktraceAction::Kind::kMinFrames;
          const bool numeric = value->size() <= 9 &&
                               std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; });
          if (!numeric) {
            error_ = "Invalid value for " + std::string(name) + ": '" + *value + "'";
            return std::nullopt;
          }
          var.value = std::stoi(*value);
          return var;
        }
      }
    }
    pos_ = begin;
    return std::nullopt;
  }

  std::optional<StacktraceRule> ParseRule() {
    std::vector<StacktraceMatcher> matchers;
    if (auto caller = CallerMatcher()) matchers.push_back(std::move(*caller));
    bool any_frame_matcher = false;
    while (auto matcher = FrameMatcher(FrameOffset::kSelf)) {
      matchers.push_back(std::move(*matcher));
      any_frame_matcher = true;
    }
    if (!error_.empty() || !any_frame_matcher) return std::nullopt;
    if (auto callee = CalleeMatcher()) matchers.push_back(std::move(*callee));
    std::vector<StacktraceAction> actions;
    while (auto action = Action()) actions.push_back(std::move(*action));
    if (!error_.empty() || actions.empty()) return std::nullopt;
    for (auto& matcher : matchers) {
      const auto canonical = CanonicalKey(matcher.key, allow_filename_);
      if (!canonical) {
        error_ = "Unknown matcher '" + matcher.key + "'";
        return std::nullopt;
      }
      matcher.key = std::string(*canonical);
    }
    auto rule = StacktraceRule::Create(std::move(matchers), std::move(actions));
    if (!rule) {
      error_ = rule.error();
      return std::nullopt;
    }
    return std::move(*rule);
  }

  std::string_view text_;
  bool allow_filename_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

Expected<std::vector<StacktraceRule>, std::string> ParseStacktraceRuleText(std::string_view text,
                                                                           bool allow_filename_matcher) {
  RuleParser parser(text, allow_filename_matcher);
  return parser.Parse();
}

const std::vector<StacktraceRule>& BaseStacktraceRules() {
  static const std::vector<StacktraceRule> rules = [] {
    auto parsed = ParseStacktraceRuleText(BaseStacktraceRulesText(), true);
    // The base text is a constant verified by the tests.
    return parsed ? std::move(*parsed) : std::vector<StacktraceRule>{};
  }();
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Matching and application.

namespace {

RuleSet::Split SplitRules(const std::vector<StacktraceRule>& rules) {
  RuleSet::Split split;
  for (const auto& rule : rules) {
    const CompiledStacktraceRule* compiled = rule.Compiled().get();
    if (compiled->has_classifier_actions) split.classifiers.push_back(compiled);
    if (compiled->has_contributes_actions) split.contributes.push_back(compiled);
  }
  return split;
}

constexpr std::size_t kGateFields = 5;
constexpr std::size_t kMissing = 256;

int GateField(Field field) {
  switch (field) {
    case Field::kModule: return 0;
    case Field::kFunction: return 1;
    case Field::kPath: return 2;
    case Field::kPackage: return 3;
    case Field::kFilename: return 4;
    default: return -1;
  }
}

bool IsPathGate(std::size_t field) {
  return field >= 2;
}

unsigned char GateKey(unsigned char c, bool path) {
  if (!path) return c;
  if (c == '\\') return '/';
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

}  // namespace

// A prefilter for the built-in rules: from the first byte of a frame's immutable fields (module,
// function, paths) and its family, which rules can possibly match it. Rules are then evaluated only
// on the frames they may match, in rule order, so the result is the same as evaluating everything.
class GateIndex {
 public:
  explicit GateIndex(std::vector<const CompiledStacktraceRule*> rules) : rules_(std::move(rules)) {
    words_ = (rules_.size() + 63) / 64;
    for (auto& family : families_) family.assign(words_, 0);
    for (auto& field : fields_) field.assign((kMissing + 1) * words_, 0);
    for (std::size_t r = 0; r < rules_.size(); ++r) {
      const CompiledStacktraceRule& rule = *rules_[r];
      const std::uint8_t bits[3] = {kFamilyOther, kFamilyNative, kFamilyJavascript};
      for (std::size_t family = 0; family < 3; ++family) {
        if ((rule.family_mask & bits[family]) != 0) Set(families_[family], 0, r);
      }
      for (std::size_t field = 0; field < kGateFields; ++field) {
        std::array<bool, kMissing + 1> allowed;
        allowed.fill(true);
        for (const auto& matcher : rule.frame_matchers) {
          if (matcher.negated || matcher.offset != FrameOffset::kSelf || !matcher.glob ||
              GateField(matcher.field) != static_cast<int>(field)) {
            continue;
          }
          std::array<bool, kMissing + 1> mine{};
          const auto prefixes = matcher.glob->LiteralPrefixes();
          const bool any_start =
              prefixes.empty() || std::any_of(prefixes.begin(), prefixes.end(),
                                              [&](std::string_view p) { return IsPathGate(field) && p == "/"; });
          if (any_start) {
            mine.fill(true);
          } else {
            for (const std::string_view prefix : prefixes) {
              mine[static_cast<unsigned char>(prefix[0])] = true;
              // A relative path is retried with a leading '/'.
              if (IsPathGate(field) && prefix[0] == '/') mine[static_cast<unsigned char>(prefix[1])] = true;
            }
          }
          mine[kMissing] = false;
          for (std::size_t k = 0; k <= kMissing; ++k) allowed[k] = allowed[k] && mine[k];
        }
        for (std::size_t k = 0; k <= kMissing; ++k) {
          if (allowed[k]) Set(fields_[field], k, r);
        }
      }
    }
  }

  const std::vector<const CompiledStacktraceRule*>& Rules() const { return rules_; }
  std::size_t Words() const { return words_; }

  /// Writes the bitset of rules that may match `frame` into `out` (Words() words).
  void Candidates(const MatchFrame& frame, std::uint64_t* out) const {
    const std::size_t family = frame.family == kFamilyNative ? 1 : (frame.family == kFamilyJavascript ? 2 : 0);
    std::copy(families_[family].begin(), families_[family].end(), out);
    const OptStr values[kGateFields] = {frame.module, frame.function, frame.path, frame.package, frame.filename};
    for (std::size_t field = 0; field < kGateFields; ++field) {
      const std::size_t key = (!values[field] || values[field]->empty())
                                  ? kMissing
                                  : GateKey(static_cast<unsigned char>((*values[field])[0]), IsPathGate(field));
      const std::uint64_t* mask = fields_[field].data() + key * words_;
      for (std::size_t w = 0; w < words_; ++w) out[w] &= mask[w];
    }
  }

 private:
  void Set(std::vector<std::uint64_t>& bits, std::size_t row, std::size_t rule) const {
    bits[row * words_ + rule / 64] |= std::uint64_t{1} << (rule % 64);
  }

  std::vector<const CompiledStacktraceRule*> rules_;
  std::size_t words_ = 0;
  std::vector<std::uint64_t> families_[3];
  std::vector<std::uint64_t> fields_[kGateFields];
};

RuleSet::RuleSet(const std::vector<StacktraceRule>& project) : project_(SplitRules(project)) {
  static const Split split = SplitRules(BaseStacktraceRules());
  static const GateIndex classifiers(split.classifiers);
  static const GateIndex contributes(split.contributes);
  static const Base base{&classifiers, &contributes};
  base_ = &base;
}

namespace {

// Calls `f(rule, matching frame indices)` for every rule of the base index (in order) that matches
// at least one frame, then for every project rule.
template <class F>
void ForEachMatchingRule(const GateIndex& index, const std::vector<const CompiledStacktraceRule*>& project,
                         const std::vector<MatchFrame>& frames, const MatchException& exception, F&& f) {
  const std::size_t words = index.Words();
  std::vector<std::uint64_t> candidates(words * frames.size());
  std::vector<std::uint64_t> any(words, 0);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    index.Candidates(frames[i], candidates.data() + i * words);
    for (std::size_t w = 0; w < words; ++w) any[w] |= candidates[i * words + w];
  }
  std::vector<std::uint32_t> matching;
  for (std::size_t w = 0; w < words; ++w) {
    for (std::uint64_t bits = any[w]; bits != 0; bits &= bits - 1) {
      const std::size_t r = w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
      const CompiledStacktraceRule& rule = *index.Rules()[r];
      if (!RuleMatchesException(rule, exception)) continue;
      matching.clear();
      for (std::size_t i = 0; i < frames.size(); ++i) {
        if (((candidates[i * words + w] >> (r % 64)) & 1U) != 0 && RuleMatchesFrame(rule, frames, i)) {
          matching.push_back(static_cast<std::uint32_t>(i));
        }
      }
      if (!matching.empty()) f(rule, matching);
    }
  }
  for (const CompiledStacktraceRule* rule : project) {
    if (!RuleMatchesException(*rule, exception)) continue;
    matching.clear();
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (RuleMatchesFrame(*rule, frames, i)) matching.push_back(static_cast<std::uint32_t>(i));
    }
    if (!matching.empty()) f(*rule, matching);
  }
}

}  // namespace

namespace {

bool PathLikeMatches(const Glob& glob, std::string_view value) {
  if (glob.MatchesFolded(value)) return true;
  return !value.starts_with('/') && glob.MatchesFolded(value, true);
}

bool MatcherMatchesFrame(const CompiledStacktraceMatcher& matcher, const MatchFrame& frame) {
  switch (matcher.field) {
    case Field::kFamily: return (matcher.families & frame.family) != 0;
    case Field::kApp: return !matcher.app_never_matches && frame.in_app.value_or(false) == matcher.app;
    default: break;
  }
  if (!matcher.glob) return false;
  switch (matcher.field) {
    // The string fields of a MatchFrame are already in the form the globs expect.
    case Field::kFunction: return matcher.glob->MatchesFolded(frame.function);
    case Field::kModule: return frame.module && matcher.glob->MatchesFolded(*frame.module);
    case Field::kCategory: return frame.category && matcher.glob->MatchesFolded(*frame.category);
    case Field::kPath: return frame.path && PathLikeMatches(*matcher.glob, *frame.path);
    case Field::kPackage: return frame.package && PathLikeMatches(*matcher.glob, *frame.package);
    case Field::kFilename: return frame.filename && PathLikeMatches(*matcher.glob, *frame.filename);
    default: return false;
  }
}

}  // namespace

bool RuleMatchesException(const CompiledStacktraceRule& rule, const MatchException& exception) {
  for (const auto& matcher : rule.exception_matchers) {
    OptStr value;
    if (matcher.field == Field::kType) value = exception.type;
    if (matcher.field == Field::kValue && exception.value != nullptr) value = exception.event->Read(*exception.value);
    if (matcher.field == Field::kMechanism) value = exception.mechanism;
    const bool matched = matcher.glob && matcher.glob->Matches(value.value_or("<unknown>"));
    if (matched == matcher.negated) return false;
  }
  return true;
}

bool RuleMatchesFrame(const CompiledStacktraceRule& rule, const std::vector<MatchFrame>& frames, std::size_t index) {
  if ((rule.family_mask & frames[index].family) == 0) return false;
  for (const auto& matcher : rule.frame_matchers) {
    std::size_t target = index;
    if (matcher.offset == FrameOffset::kCaller) {
      if (index == 0) return false;
      target = index - 1;
    } else if (matcher.offset == FrameOffset::kCallee) {
      if (index + 1 >= frames.size()) return false;
      target = index + 1;
    }
    if (MatcherMatchesFrame(matcher, frames[target]) == matcher.negated) return false;
  }
  return true;
}

namespace {

// Frames an action with a range applies to: `^` the frames after the match (towards the crash),
// `v` the frames before it.
std::pair<std::size_t, std::size_t> RangeOf(StacktraceAction::Range range, std::size_t index, std::size_t size) {
  switch (range) {
    case StacktraceAction::Range::kUp: return {index + 1, size};
    case StacktraceAction::Range::kDown: return {0, index};
    case StacktraceAction::Range::kSelf: return {index, index + 1};
  }
  return {index, index + 1};
}

}  // namespace

void ApplyClassifiers(const RuleSet& rules, std::vector<MatchFrame>& frames, const MatchException& exception) {
  // Each rule first finds all of its frames, then applies; later rules see earlier changes (in_app
  // and category are not part of the index, so the prefilter stays valid).
  ForEachMatchingRule(*rules.BaseRules().classifiers, rules.ProjectRules().classifiers, frames, exception,
                      [&frames](const CompiledStacktraceRule& rule, const std::vector<std::uint32_t>& matching) {
                        for (const std::uint32_t index : matching) {
                          for (const auto& action : rule.actions) {
                            if (action.kind == StacktraceAction::Kind::kApp) {
                              const auto [begin, end] = RangeOf(action.range, index, frames.size());
                              for (std::size_t i = begin; i < end; ++i) frames[i].in_app = action.flag;
                            } else if (action.kind == StacktraceAction::Kind::kCategory) {
                              frames[index].category = action.category;
                            }
                          }
                        }
                      });
}

ContributesMatches MatchContributes(const RuleSet& rules, const std::vector<MatchFrame>& frames,
                                    const MatchException& exception) {
  ContributesMatches out;
  ForEachMatchingRule(*rules.BaseRules().contributes, rules.ProjectRules().contributes, frames, exception,
                      [&out](const CompiledStacktraceRule& rule, const std::vector<std::uint32_t>& matching) {
                        out.rules.emplace_back(&rule, matching);
                      });
  return out;
}

bool AssembleContributes(const ContributesMatches& matches, std::vector<bool>& contributes,
                         std::vector<const std::string*>* hints) {
  int max_frames = 0;
  int min_frames = 0;
  for (const auto& [rule, indices] : matches.rules) {
    for (const std::uint32_t index : indices) {
      for (const auto& action : rule->actions) {
        switch (action.kind) {
          case StacktraceAction::Kind::kGroup: {
            const auto [begin, end] = RangeOf(action.range, index, contributes.size());
            for (std::size_t i = begin; i < end; ++i) {
              if (contributes[i] != action.flag) {
                contributes[i] = action.flag;
                if (hints != nullptr) (*hints)[i] = &rule->text;
              }
            }
            break;
          }
          case StacktraceAction::Kind::kMaxFrames: max_frames = action.value; break;
          case StacktraceAction::Kind::kMinFrames: min_frames = action.value; break;
          default: break;
        }
      }
    }
  }
  if (max_frames > 0) {
    int seen = 0;
    for (std::size_t i = contributes.size(); i-- > 0;) {
      if (!contributes[i]) continue;
      if (++seen > max_frames) contributes[i] = false;
    }
  }
  const auto total = std::count(contributes.begin(), contributes.end(), true);
  if (min_frames > 0 && total > 0 && total < min_frames) return false;
  return total > 0;
}

}  // namespace rookery::grouping::detail

namespace rookery::grouping {

Expected<std::vector<StacktraceRule>, std::string> ParseStacktraceRules(std::string_view text) {
  return detail::ParseStacktraceRuleText(text, false);
}

}  // namespace rookery::grouping
