#include "fingerprinting.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "function_names.hpp"
#include "py_regex.hpp"
#include "rule_text.hpp"

namespace rookery::grouping::detail {
namespace {

using Group = CompiledFingerprintMatcher::Group;

struct KeyInfo {
  std::string_view alias;
  std::string_view canonical;
};

constexpr KeyInfo kKeys[] = {
    {"error.type", "type"},
    {"error.value", "value"},
    {"stack.module", "module"},
    {"stack.abs_path", "path"},
    {"stack.package", "package"},
    {"stack.function", "function"},
    {"message", "message"},
    {"logger", "logger"},
    {"level", "level"},
    {"type", "type"},
    {"value", "value"},
    {"module", "module"},
    {"path", "path"},
    {"package", "package"},
    {"function", "function"},
    {"family", "family"},
    {"app", "app"},
    {"sdk", "sdk"},
    {"release", "release"},
    {"thread.id", "thread_id"},
    {"thread.name", "thread_name"},
    {"thread.state", "thread_state"},
    {"thread.crashed", "thread_crashed"},
    {"thread.current", "thread_current"},
    // Canonical names as stored in the JSON form.
    {"thread_id", "thread_id"},
    {"thread_name", "thread_name"},
    {"thread_state", "thread_state"},
    {"thread_crashed", "thread_crashed"},
    {"thread_current", "thread_current"},
};

std::optional<std::string> CanonicalKey(std::string_view key) {
  if (key.starts_with("tags.")) return std::string(key);
  for (const auto& info : kKeys) {
    if (info.alias == key) return std::string(info.canonical);
  }
  return std::nullopt;
}

Group GroupOf(std::string_view key) {
  if (key == "message") return Group::kToplevel;
  if (key == "logger" || key == "level") return Group::kLogInfo;
  if (key == "type" || key == "value") return Group::kExceptions;
  if (key.starts_with("tags.")) return Group::kTags;
  if (key == "sdk") return Group::kSdk;
  if (key == "family") return Group::kFamily;
  if (key == "release") return Group::kRelease;
  if (key.starts_with("thread_")) return Group::kThreads;
  return Group::kFrames;
}

std::optional<bool> BoolFromString(std::string_view value) {
  std::string lower(value);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  if (lower == "1" || lower == "yes" || lower == "true") return true;
  if (lower == "0" || lower == "no" || lower == "false") return false;
  return std::nullopt;
}

CompiledFingerprintMatcher CompileMatcher(const FingerprintMatcher& matcher) {
  CompiledFingerprintMatcher compiled;
  compiled.key = matcher.key;
  compiled.group = GroupOf(matcher.key);
  compiled.negated = matcher.negated;
  compiled.offset = matcher.offset;
  const std::string_view key = matcher.key;
  if (key == "family" || key == "sdk") {
    std::string_view pattern = matcher.pattern;
    while (true) {
      const std::size_t comma = pattern.find(',');
      compiled.flags.emplace_back(pattern.substr(0, comma));
      if (comma == std::string_view::npos) break;
      pattern.remove_prefix(comma + 1);
    }
    return compiled;
  }
  if (key == "app" || key == "thread_crashed" || key == "thread_current") {
    compiled.bool_value = BoolFromString(matcher.pattern);
    return compiled;
  }
  // Relay's glob_match: `*` crosses '/' unless the matcher is path-like (double_star), newlines
  // are allowed, and only paths, messages, levels, values and thread fields ignore case.
  GlobOptions options;
  options.dot_matches_newline = true;
  compiled.path_like = key == "path" || key == "package" || key == "release";
  if (compiled.path_like) {
    options.case_insensitive = true;
    options.literal_separator = true;
    options.path_normalize = true;
  } else if (key == "message" || key == "level" || key == "value" || key == "thread_id" || key == "thread_name" ||
             key == "thread_state") {
    options.case_insensitive = true;
  }
  if (auto glob = Glob::Compile(matcher.pattern, options)) compiled.glob = std::move(*glob);
  return compiled;
}

std::string MatcherText(const FingerprintMatcher& matcher) {
  std::string core = (matcher.negated ? "!" : "") + matcher.key + ":\"" + matcher.pattern + "\"";
  if (matcher.offset == FrameOffset::kCaller) return "[ " + core + " ] |";
  if (matcher.offset == FrameOffset::kCallee) return "| [ " + core + " ]";
  return core;
}

std::string RuleText(const CompiledFingerprintRule& rule) {
  std::string matchers;
  for (const auto& matcher : rule.matchers) {
    if (!matchers.empty()) matchers += ' ';
    matchers += MatcherText(matcher);
  }
  std::string fingerprint;
  for (const auto& value : rule.fingerprint) fingerprint += value;
  std::string text = matchers + " -> \"" + fingerprint + "\" ";
  if (rule.title) text += "title=\"" + *rule.title + "\"";
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

Expected<FingerprintRule, std::string> CreateRule(std::vector<FingerprintMatcher> matchers,
                                                  std::vector<std::string> fingerprint,
                                                  std::optional<std::string> title, bool is_builtin);

}  // namespace
}  // namespace rookery::grouping::detail

namespace rookery::grouping {

// Friend-free construction: the compiled rule is built here and handed to the class.
class FingerprintRuleBuilder {
 public:
  static FingerprintRule Make(std::shared_ptr<const detail::CompiledFingerprintRule> compiled) {
    FingerprintRule rule;
    rule.compiled_ = std::move(compiled);
    return rule;
  }
};

}  // namespace rookery::grouping

namespace rookery::grouping::detail {
namespace {

Expected<FingerprintRule, std::string> CreateRule(std::vector<FingerprintMatcher> matchers,
                                                  std::vector<std::string> fingerprint,
                                                  std::optional<std::string> title, bool is_builtin) {
  if (matchers.empty()) return MakeUnexpected(std::string("a fingerprinting rule needs at least one matcher"));
  if (fingerprint.empty()) return MakeUnexpected(std::string("a fingerprinting rule needs a fingerprint"));
  auto rule = std::make_shared<CompiledFingerprintRule>();
  for (auto& matcher : matchers) {
    const auto canonical = CanonicalKey(matcher.key);
    if (!canonical) return MakeUnexpected("Unknown matcher '" + matcher.key + "'");
    matcher.key = *canonical;
    rule->compiled.push_back(CompileMatcher(matcher));
    if (matcher.offset != FrameOffset::kSelf) rule->has_sibling_matchers = true;
  }
  for (auto& value : fingerprint) {
    if (IsDefaultFingerprintVariable(value)) value = "{{ default }}";
  }
  rule->matchers = std::move(matchers);
  rule->fingerprint = std::move(fingerprint);
  rule->title = std::move(title);
  rule->is_builtin = is_builtin;
  rule->text = RuleText(*rule);
  return FingerprintRuleBuilder::Make(std::move(rule));
}

// ---------------------------------------------------------------------------------------------
// Parser for the fingerprinting grammar (fingerprinting/parser.py): spaces only between tokens,
// `matchers -> value, value title="..."` per line.

const PyRegex& UnquotedNoCommaRegex() {
  static const PyRegex regex = *PyRegex::Compile(R"re((?:\{\{\s*\S+\s*\}\})|(?:[^\s\{,]+))re");
  return regex;
}

class FingerprintParser {
 public:
  explicit FingerprintParser(std::string_view text) : text_(text) {}

  Expected<std::vector<FingerprintRule>, std::string> Parse() {
    std::vector<FingerprintRule> rules;
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

  static bool IsKeyChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  }

  std::optional<std::string> Key() {
    const std::size_t begin = pos_;
    while (pos_ < text_.size() && IsKeyChar(text_[pos_])) ++pos_;
    if (pos_ == begin) return std::nullopt;
    return std::string(text_.substr(begin, pos_ - begin));
  }

  std::optional<std::string> QuotedKey() {
    if (!At('"')) return std::nullopt;
    const std::size_t begin = pos_;
    ++pos_;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (IsKeyChar(text_[pos_]) || text_[pos_] == ':')) ++pos_;
    if (pos_ == start || !At('"')) {
      pos_ = begin;
      return std::nullopt;
    }
    std::string key(text_.substr(start, pos_ - start));
    ++pos_;
    while (!key.empty() && key.front() == '!') key.erase(0, 1);
    return key;
  }

  std::optional<std::string> Quoted() {
    if (!At('"')) return std::nullopt;
    std::size_t p = pos_ + 1;
    while (p < text_.size() && text_[p] != '"') p += text_[p] == '\\' ? 2 : 1;
    if (p >= text_.size()) return std::nullopt;
    auto unescaped = UnescapePythonString(text_.substr(pos_ + 1, p - pos_ - 1));
    if (!unescaped) {
      error_ = unescaped.error();
      return std::nullopt;
    }
    pos_ = p + 1;
    return std::move(*unescaped);
  }

  std::optional<std::string> Unquoted() {
    const std::size_t begin = pos_;
    while (pos_ < text_.size()) {
      std::size_t length = 0;
      if (IsPythonSpace(DecodeUtf8At(text_, pos_, &length))) break;
      pos_ += length;
    }
    if (pos_ == begin) return std::nullopt;
    return std::string(text_.substr(begin, pos_ - begin));
  }

  std::optional<FingerprintMatcher> FrameMatcher(FrameOffset offset) {
    const std::size_t begin = pos_;
    SkipSpaces();
    FingerprintMatcher matcher;
    matcher.offset = offset;
    if (At('!')) {
      matcher.negated = true;
      ++pos_;
    }
    auto key = Key();
    if (!key) key = QuotedKey();
    if (!key || !Literal(":")) {
      pos_ = begin;
      return std::nullopt;
    }
    auto argument = Quoted();
    if (!argument && error_.empty()) argument = Unquoted();
    if (!argument) {
      pos_ = begin;
      return std::nullopt;
    }
    matcher.key = std::move(*key);
    matcher.pattern = std::move(*argument);
    return matcher;
  }

  std::optional<FingerprintMatcher> CallerMatcher() {
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

  std::optional<FingerprintMatcher> CalleeMatcher() {
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

  // fp_argument = fp_attribute / quoted / unquoted_no_comma
  bool FingerprintValue(std::vector<std::string>& values, std::optional<std::string>& title) {
    const std::size_t begin = pos_;
    SkipSpaces();
    {
      const std::size_t attribute_begin = pos_;
      if (auto key = Key(); key && Literal("=")) {
        if (auto value = Quoted()) {
          if (*key != "title") {
            error_ = "Unknown attribute '" + *key + "'";
            return false;
          }
          title = std::move(*value);
          SkipSpaces();
          Literal(",");
          return true;
        }
      }
      if (!error_.empty()) return false;
      pos_ = attribute_begin;
    }
    if (auto quoted = Quoted()) {
      values.push_back(std::move(*quoted));
    } else if (!error_.empty()) {
      return false;
    } else if (auto end = UnquotedNoCommaRegex().MatchAt(text_, pos_); end && *end > pos_) {
      values.emplace_back(text_.substr(pos_, *end - pos_));
      pos_ = *end;
    } else {
      pos_ = begin;
      return false;
    }
    SkipSpaces();
    Literal(",");
    return true;
  }

  std::optional<FingerprintRule> ParseRule() {
    std::vector<FingerprintMatcher> matchers;
    if (auto caller = CallerMatcher()) matchers.push_back(std::move(*caller));
    bool any = false;
    while (auto matcher = FrameMatcher(FrameOffset::kSelf)) {
      matchers.push_back(std::move(*matcher));
      any = true;
    }
    if (!error_.empty() || !any) return std::nullopt;
    if (auto callee = CalleeMatcher()) matchers.push_back(std::move(*callee));
    SkipSpaces();
    if (!Literal("->")) return std::nullopt;
    SkipSpaces();
    std::vector<std::string> fingerprint;
    std::optional<std::string> title;
    bool any_value = false;
    while (FingerprintValue(fingerprint, title)) any_value = true;
    if (!error_.empty() || !any_value) return std::nullopt;
    auto rule = CreateRule(std::move(matchers), std::move(fingerprint), std::move(title), false);
    if (!rule) {
      error_ = rule.error();
      return std::nullopt;
    }
    return std::move(*rule);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Matching against an event (EventDatastore in Sentry).

struct FrameValues {
  std::string_view function;
  OptStr abs_path;
  OptStr filename;
  OptStr module;
  OptStr package;
  std::optional<bool> app;
};

bool PathMatches(const CompiledFingerprintMatcher& matcher, OptStr value) {
  if (!value || !matcher.glob) return false;
  if (matcher.glob->Matches(*value)) return true;
  return !value->starts_with('/') && !value->starts_with('\\') && matcher.glob->Matches(*value, true);
}

bool GlobMatches(const CompiledFingerprintMatcher& matcher, OptStr value) {
  return value && matcher.glob && matcher.glob->Matches(*value);
}

bool FlagsMatch(const CompiledFingerprintMatcher& matcher, std::string_view value) {
  for (const auto& flag : matcher.flags) {
    if (flag == "all" || flag == value) return true;
  }
  return false;
}

bool MatchFrame(const CompiledFingerprintMatcher& matcher, const FrameValues& frame) {
  bool matched = false;
  if (matcher.key == "path") {
    matched = PathMatches(matcher, frame.abs_path) ||
              (frame.filename != frame.abs_path && PathMatches(matcher, frame.filename));
  } else if (matcher.key == "function") {
    matched = GlobMatches(matcher, frame.function);
  } else if (matcher.key == "module") {
    matched = GlobMatches(matcher, frame.module);
  } else if (matcher.key == "package") {
    matched = PathMatches(matcher, frame.package);
  } else if (matcher.key == "app") {
    matched = frame.app.has_value() && matcher.bool_value.has_value() && *frame.app == *matcher.bool_value;
  }
  return matched != matcher.negated;
}

std::string NormalizedSdkTag(OptStr name) {
  // A reduced form of Sentry's normalize_sdk_tag: non-word runs become dots, third-party SDKs are
  // "other", and sentry.<platform>.<framework> collapses to sentry.<platform> except for
  // JavaScript and Native. (Sentry additionally maps a table of synonyms.)
  std::string tag;
  bool in_separator = false;
  for (const char c : name.value_or("other")) {
    const bool word = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (word) {
      tag += c;
      in_separator = false;
    } else if (!in_separator) {
      tag += '.';
      in_separator = true;
    }
  }
  if (!tag.starts_with("sentry.")) return "other";
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = tag.find('.', start);
    parts.push_back(tag.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  const std::size_t keep = (parts.size() > 1 && parts[1] == "native")       ? 3
                           : (parts.size() > 1 && parts[1] == "javascript") ? parts.size()
                                                                            : 2;
  std::string out;
  for (std::size_t i = 0; i < parts.size() && i < keep; ++i) {
    if (i > 0) out += '.';
    out += parts[i];
  }
  return out;
}

class EventValues {
 public:
  explicit EventValues(const EventData& event) : event_(event) {}

  const std::vector<FrameValues>& Frames() {
    if (frames_) return *frames_;
    frames_.emplace();
    const auto add = [this](const StacktraceData& stacktrace) {
      for (const auto& frame : stacktrace.frames) {
        FrameValues values;
        values.function = frame.function.value_or("<unknown>");
        if (values.function.empty()) values.function = "<unknown>";
        values.abs_path = frame.abs_path && !frame.abs_path->empty() ? frame.abs_path : frame.filename;
        values.filename = frame.filename;
        values.module = frame.module;
        values.package = frame.package;
        values.app = frame.in_app;
        frames_->push_back(values);
      }
    };
    bool in_exception = false;
    for (const auto& exception : event_.exceptions) {
      if (exception.stacktrace) {
        add(*exception.stacktrace);
        in_exception = true;
      }
    }
    if (!in_exception) {
      if (event_.stacktrace) {
        add(*event_.stacktrace);
      } else if (const ThreadData* thread = CrashingThread(); thread != nullptr && thread->stacktrace) {
        add(*thread->stacktrace);
      }
    }
    return *frames_;
  }

  bool MatchesGroup(Group group, const std::vector<const CompiledFingerprintMatcher*>& matchers) {
    const auto all = [&](const auto& predicate) {
      return std::all_of(matchers.begin(), matchers.end(),
                         [&](const CompiledFingerprintMatcher* m) { return predicate(*m) != m->negated; });
    };
    switch (group) {
      case Group::kToplevel: {
        const auto message_matches = [](const CompiledFingerprintMatcher& m, OptStr message, OptStr value) {
          return GlobMatches(m, message) || GlobMatches(m, value);
        };
        const OptStr formatted = event_.Read(event_.logentry_formatted);
        if (!IsEmptyStr(formatted) && all([&](const auto& m) { return message_matches(m, formatted, std::nullopt); })) {
          return true;
        }
        for (const auto& exception : event_.exceptions) {
          if (all([&](const auto& m) { return message_matches(m, std::nullopt, event_.Read(exception.value)); })) {
            return true;
          }
        }
        return false;
      }
      case Group::kLogInfo: {
        const OptStr logger = IsEmptyStr(event_.Read(event_.logger)) ? OptStr() : event_.Read(event_.logger);
        const OptStr level = event_.Read(event_.level).empty() ? OptStr() : OptStr(event_.Read(event_.level));
        if (!logger && !level) return false;
        return all([&](const auto& m) { return GlobMatches(m, m.key == "logger" ? logger : level); });
      }
      case Group::kExceptions:
        for (const auto& exception : event_.exceptions) {
          if (all([&](const auto& m) {
                return GlobMatches(m, m.key == "type" ? exception.type : event_.Read(exception.value));
              })) {
            return true;
          }
        }
        return false;
      case Group::kTags:
        return all([&](const auto& m) {
          const std::string_view name = std::string_view(m.key).substr(5);
          OptStr value;
          for (const auto& [key, tag_value] : event_.Read(event_.tags)) {
            if (key == name) value = tag_value;
          }
          return GlobMatches(m, value);
        });
      case Group::kSdk: {
        const std::string sdk = NormalizedSdkTag(event_.sdk_name);
        return all([&](const auto& m) { return FlagsMatch(m, sdk); });
      }
      case Group::kFamily: {
        const Family family = FamilyOfPlatform(event_.platform);
        const std::string_view name =
            family == Family::kNative ? "native" : (family == Family::kJavascript ? "javascript" : "other");
        return all([&](const auto& m) { return FlagsMatch(m, name); });
      }
      case Group::kRelease: return all([&](const auto& m) { return PathMatches(m, event_.Read(event_.release)); });
      case Group::kThreads:
        if (!event_.threads) return false;
        for (const auto& thread : *event_.threads) {
          const bool ok = all([&](const auto& m) {
            if (m.key == "thread_id") return GlobMatches(m, thread.id);
            if (m.key == "thread_name") return GlobMatches(m, thread.name);
            if (m.key == "thread_state") return GlobMatches(m, thread.state);
            const bool value = m.key == "thread_crashed" ? thread.crashed : thread.current;
            return m.bool_value.has_value() && *m.bool_value == value;
          });
          if (ok) return true;
        }
        return false;
      case Group::kFrames:
        for (const auto& frame : Frames()) {
          if (std::all_of(matchers.begin(), matchers.end(),
                          [&](const CompiledFingerprintMatcher* m) { return MatchFrame(*m, frame); })) {
            return true;
          }
        }
        return false;
    }
    return false;
  }

  const ThreadData* CrashingThread() const {
    if (!event_.threads || event_.threads->empty()) return nullptr;
    const auto& threads = *event_.threads;
    if (threads.size() == 1) return &threads[0];
    const ThreadData* found = nullptr;
    int count = 0;
    for (const auto& thread : threads) {
      if (thread.crashed) {
        found = &thread;
        ++count;
      }
    }
    if (count == 1) return found;
    count = 0;
    for (const auto& thread : threads) {
      if (thread.current) {
        found = &thread;
        ++count;
      }
    }
    return count == 1 ? found : nullptr;
  }

 private:
  static bool IsEmptyStr(OptStr value) { return !value || value->empty(); }

  const EventData& event_;
  std::optional<std::vector<FrameValues>> frames_;
};

bool RuleMatches(const CompiledFingerprintRule& rule, EventValues& values) {
  // Matchers are checked per kind of event data: each kind needs one value (an exception, a
  // frame, ...) satisfying all of its matchers.
  std::vector<const CompiledFingerprintMatcher*> by_group[9];
  for (const auto& matcher : rule.compiled) {
    const Group group = matcher.offset != FrameOffset::kSelf ? Group::kFrames : matcher.group;
    by_group[static_cast<int>(group)].push_back(&matcher);
  }
  // All kinds must match, so the order is free: the kinds that are the same for every event of an
  // issue go first, so that a rule for another platform fails before it reads a watched field
  // (which would make the grouping memo key this event on its exception value, tags, ...).
  static constexpr std::array<Group, 9> kOrder = {Group::kFamily,  Group::kSdk,        Group::kThreads,
                                                  Group::kFrames,  Group::kExceptions, Group::kLogInfo,
                                                  Group::kRelease, Group::kTags,       Group::kToplevel};
  for (const Group group : kOrder) {
    const int g = static_cast<int>(group);
    if (by_group[g].empty()) continue;
    if (group == Group::kFrames && rule.has_sibling_matchers) {
      const auto& frames = values.Frames();
      bool found = false;
      for (std::size_t i = 0; i < frames.size() && !found; ++i) {
        found = std::all_of(by_group[g].begin(), by_group[g].end(), [&](const CompiledFingerprintMatcher* m) {
          // Sentry's fingerprint matchers call the next frame the caller, unlike the
          // stack-trace rules.
          if (m->offset == FrameOffset::kCaller) return i + 1 < frames.size() && MatchFrame(*m, frames[i + 1]);
          if (m->offset == FrameOffset::kCallee) return i > 0 && MatchFrame(*m, frames[i - 1]);
          return MatchFrame(*m, frames[i]);
        });
      }
      if (!found) return false;
      continue;
    }
    if (!values.MatchesGroup(group, by_group[g])) return false;
  }
  return true;
}

std::optional<std::string> NonEmpty(OptStr value) {
  if (!value || value->empty()) return std::nullopt;
  return std::string(*value);
}

// Sentry's get_crash_frame_from_event_data: the newest in-app frame of the main stack trace, else
// its newest frame.
const FrameData* CrashFrame(const EventData& event) {
  const StacktraceData* stacktrace = nullptr;
  if (!event.exceptions.empty() && event.exceptions.back().stacktrace)
    stacktrace = &*event.exceptions.back().stacktrace;
  if (stacktrace == nullptr && event.stacktrace) stacktrace = &*event.stacktrace;
  if (stacktrace == nullptr && event.threads && event.threads->size() == 1 && (*event.threads)[0].stacktrace) {
    stacktrace = &*(*event.threads)[0].stacktrace;
  }
  if (stacktrace == nullptr || stacktrace->frames.empty()) return nullptr;
  for (auto it = stacktrace->frames.rbegin(); it != stacktrace->frames.rend(); ++it) {
    if (it->in_app.value_or(false)) return &*it;
  }
  return &stacktrace->frames.back();
}

}  // namespace

const std::vector<FingerprintRule>& BuiltinFingerprintRules() {
  static const std::vector<FingerprintRule> rules = [] {
    // Sentry's built-in set `javascript@2024-02-02`, which newstyle:2023-01-11 applies after the
    // project's rules.
    constexpr std::string_view kText =
        "family:javascript error.type:\"ChunkLoadError\" -> chunkloaderror\n"
        "family:javascript error.value:\"ChunkLoadError*\" -> chunkloaderror\n"
        "family:javascript tags.transaction:\"*\" message:\"Hydration failed because the initial UI does not match "
        "what was rendered on the server.\" -> hydrationerror, {{tags.transaction}}\n"
        "family:javascript tags.transaction:\"*\" message:\"The server could not finish this Suspense boundary, "
        "likely due to an error during server rendering. Switched to client rendering.\" -> hydrationerror, "
        "{{tags.transaction}}\n"
        "family:javascript tags.transaction:\"*\" message:\"There was an error while hydrating this Suspense "
        "boundary. Switched to client rendering.\" -> hydrationerror, {{tags.transaction}}\n"
        "family:javascript tags.transaction:\"*\" message:\"There was an error while hydrating. Because the error "
        "happened outside of a Suspense boundary, the entire root will switch to client rendering.\" -> "
        "hydrationerror, {{tags.transaction}}\n"
        "family:javascript tags.transaction:\"*\" message:\"Text content does not match server-rendered HTML.\" -> "
        "hydrationerror, {{tags.transaction}}\n";
    FingerprintParser parser(kText);
    auto parsed = parser.Parse();
    std::vector<FingerprintRule> out;
    if (!parsed) return out;
    for (const auto& rule : *parsed) {
      const auto* compiled = rule.Compiled().get();
      auto builtin = CreateRule(compiled->matchers, compiled->fingerprint, compiled->title, true);
      if (builtin) out.push_back(std::move(*builtin));
    }
    return out;
  }();
  return rules;
}

std::optional<FingerprintMatch> MatchFingerprintRules(const std::vector<FingerprintRule>& project_rules,
                                                      const EventData& event) {
  EventValues values(event);
  for (const auto* list : {&project_rules, &BuiltinFingerprintRules()}) {
    for (const auto& rule : *list) {
      if (RuleMatches(*rule.Compiled(), values)) return FingerprintMatch{rule.Compiled().get()};
    }
  }
  return std::nullopt;
}

std::optional<std::string> ResolveFingerprintVariable(std::string_view name, const EventData& event) {
  if (name == "transaction") return NonEmpty(event.Read(event.transaction)).value_or("<no-transaction>");
  if (name == "message") {
    if (auto v = NonEmpty(event.Read(event.logentry_formatted))) return v;
    if (auto v = NonEmpty(event.logentry_message)) return v;
    if (!event.exceptions.empty()) {
      if (auto v = NonEmpty(event.Read(event.exceptions.back().value))) return v;
    }
    return "<no-message>";
  }
  if (name == "type" || name == "error.type") {
    if (!event.exceptions.empty()) {
      if (auto v = NonEmpty(event.exceptions.back().type)) return v;
    }
    return "<no-type>";
  }
  if (name == "value" || name == "error.value") {
    if (!event.exceptions.empty()) {
      if (auto v = NonEmpty(event.Read(event.exceptions.back().value))) return v;
    }
    return "<no-value>";
  }
  const FrameData* frame = nullptr;
  const bool frame_variable = name == "function" || name == "stack.function" || name == "path" ||
                              name == "stack.abs_path" || name == "stack.filename" || name == "module" ||
                              name == "stack.module" || name == "package" || name == "stack.package";
  if (frame_variable) frame = CrashFrame(event);
  if (name == "function" || name == "stack.function") {
    if (frame != nullptr) {
      if (auto v = NonEmpty(frame->function)) return v;
    }
    return "<no-function>";
  }
  if (name == "path" || name == "stack.abs_path") {
    if (frame != nullptr) {
      if (auto v = NonEmpty(frame->abs_path)) return v;
      if (auto v = NonEmpty(frame->filename)) return v;
    }
    return "<no-abs-path>";
  }
  if (name == "stack.filename") {
    if (frame != nullptr) {
      if (auto v = NonEmpty(frame->filename)) return v;
      if (auto v = NonEmpty(frame->abs_path)) return v;
    }
    return "<no-filename>";
  }
  if (name == "module" || name == "stack.module") {
    if (frame != nullptr) {
      if (auto v = NonEmpty(frame->module)) return v;
    }
    return "<no-module>";
  }
  if (name == "package" || name == "stack.package") {
    if (frame != nullptr && frame->package && !frame->package->empty()) {
      std::string_view package = *frame->package;
      package = package.substr(package.rfind('/') == std::string_view::npos ? 0 : package.rfind('/') + 1);
      package = package.substr(package.rfind('\\') == std::string_view::npos ? 0 : package.rfind('\\') + 1);
      if (!package.empty()) return std::string(package);
    }
    return "<no-package>";
  }
  if (name == "level") {
    const std::string_view level = event.Read(event.level);
    return level.empty() ? std::string("<no-level>") : std::string(level);
  }
  if (name == "logger") return NonEmpty(event.Read(event.logger)).value_or("<no-logger>");
  if (name.starts_with("tags.")) {
    const std::string_view tag = name.substr(5);
    for (const auto& [key, value] : event.Read(event.tags)) {
      if (key == tag) return std::string(value);
    }
    return "<no-value-for-tag-" + std::string(tag) + ">";
  }
  return std::nullopt;
}

std::vector<std::string> ResolveFingerprint(const std::vector<std::string_view>& fingerprint, const EventData& event) {
  std::vector<std::string> out;
  out.reserve(fingerprint.size());
  for (const auto entry : fingerprint) {
    const auto variable = FingerprintVariable(entry);
    if (!variable) {
      out.emplace_back(entry);
    } else if (*variable == "default") {
      out.emplace_back("{{ default }}");
    } else if (auto resolved = ResolveFingerprintVariable(*variable, event)) {
      out.push_back(std::move(*resolved));
    } else {
      out.emplace_back(entry);
    }
  }
  return out;
}

std::string ExpandTitleTemplate(std::string_view title, const EventData& event) {
  // re.sub(r"\{\{\s*(\S+)\s*\}\}", ...): \S+ is greedy, so a match ends at the last "}}" the
  // non-space run allows.
  std::string out;
  std::size_t pos = 0;
  std::size_t last = 0;
  while (pos + 1 < title.size()) {
    if (title[pos] != '{' || title[pos + 1] != '{') {
      ++pos;
      continue;
    }
    std::size_t p = pos + 2;
    std::size_t length = 0;
    while (p < title.size() && IsPythonSpace(DecodeUtf8At(title, p, &length))) p += length;
    const std::size_t run_begin = p;
    while (p < title.size() && !IsPythonSpace(DecodeUtf8At(title, p, &length))) p += length;
    const std::size_t run_end = p;
    std::optional<std::pair<std::size_t, std::size_t>> match;  // (name end, match end)
    // Longest name first: the whole run, then optional spaces and "}}" ...
    std::size_t q = run_end;
    while (q < title.size() && IsPythonSpace(DecodeUtf8At(title, q, &length))) q += length;
    if (run_end > run_begin && title.substr(q, 2) == "}}") match = std::make_pair(run_end, q + 2);
    // ... else a shorter name directly followed by a "}}" inside the run.
    for (std::size_t k = run_end >= 2 ? run_end - 2 : 0; !match && k > run_begin; --k) {
      if (title.substr(k, 2) == "}}") match = std::make_pair(k, k + 2);
    }
    if (!match) {
      ++pos;
      continue;
    }
    const std::string_view name = title.substr(run_begin, match->first - run_begin);
    out.append(title.substr(last, pos - last));
    if (auto resolved = ResolveFingerprintVariable(name, event)) {
      out.append(*resolved);
    } else {
      out.append(title.substr(pos, match->second - pos));
    }
    pos = last = match->second;
  }
  out.append(title.substr(last));
  return out;
}

}  // namespace rookery::grouping::detail

namespace rookery::grouping {

Expected<FingerprintRule, std::string> FingerprintRule::Create(std::vector<FingerprintMatcher> matchers,
                                                               std::vector<std::string> fingerprint,
                                                               std::optional<std::string> title) {
  return detail::CreateRule(std::move(matchers), std::move(fingerprint), std::move(title), false);
}

const std::vector<FingerprintMatcher>& FingerprintRule::Matchers() const {
  return compiled_->matchers;
}
const std::vector<std::string>& FingerprintRule::Fingerprint() const {
  return compiled_->fingerprint;
}
const std::optional<std::string>& FingerprintRule::Title() const {
  return compiled_->title;
}
std::string FingerprintRule::Text() const {
  return compiled_->text;
}

Expected<std::vector<FingerprintRule>, std::string> ParseFingerprintRules(std::string_view text) {
  detail::FingerprintParser parser(text);
  return parser.Parse();
}

Expected<std::vector<FingerprintRule>, std::string> FingerprintRulesFromJson(const rapidjson::Value& rules) {
  std::vector<FingerprintRule> out;
  const rapidjson::Value* list = &rules;
  if (rules.IsObject() && rules.HasMember("rules")) list = &rules["rules"];
  if (!list->IsArray()) return MakeUnexpected(std::string("fingerprinting rules must be a list"));
  for (const auto& item : list->GetArray()) {
    if (!item.IsObject() || !item.HasMember("matchers") || !item["matchers"].IsArray() ||
        !item.HasMember("fingerprint") || !item["fingerprint"].IsArray()) {
      return MakeUnexpected(std::string("a fingerprinting rule needs `matchers` and `fingerprint` lists"));
    }
    std::vector<FingerprintMatcher> matchers;
    for (const auto& pair : item["matchers"].GetArray()) {
      if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString() || !pair[1].IsString()) {
        return MakeUnexpected(std::string("a matcher is a [key, pattern] pair of strings"));
      }
      FingerprintMatcher matcher;
      std::string_view key(pair[0].GetString(), pair[0].GetStringLength());
      if (key.starts_with("!")) {
        matcher.negated = true;
        key.remove_prefix(1);
      }
      matcher.key = std::string(key);
      matcher.pattern.assign(pair[1].GetString(), pair[1].GetStringLength());
      matchers.push_back(std::move(matcher));
    }
    std::vector<std::string> fingerprint;
    for (const auto& value : item["fingerprint"].GetArray()) {
      if (!value.IsString()) return MakeUnexpected(std::string("fingerprint values must be strings"));
      fingerprint.emplace_back(value.GetString(), value.GetStringLength());
    }
    std::optional<std::string> title;
    if (item.HasMember("attributes") && item["attributes"].IsObject() && item["attributes"].HasMember("title") &&
        item["attributes"]["title"].IsString()) {
      title = item["attributes"]["title"].GetString();
    }
    const bool builtin = item.HasMember("is_builtin") && item["is_builtin"].IsBool() && item["is_builtin"].GetBool();
    auto rule = detail::CreateRule(std::move(matchers), std::move(fingerprint), std::move(title), builtin);
    if (!rule) return MakeUnexpected(rule.error());
    out.push_back(std::move(*rule));
  }
  return out;
}

}  // namespace rookery::grouping
