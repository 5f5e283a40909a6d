// The variant logic of Sentry's grouping (api.py, strategies/newstyle.py, strategies/message.py)
// for config newstyle:2023-01-11.
#include "rookery/grouping/sentry_grouping.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>

#include "components.hpp"
#include "enhancements.hpp"
#include "event_data.hpp"
#include "fingerprinting.hpp"
#include "function_names.hpp"
#include "parameterize.hpp"
#include "py_regex.hpp"
#include "rookery/core/md5.hpp"
#include "rule_text.hpp"

namespace rookery::grouping {
namespace detail {
namespace {

// ---------------------------------------------------------------------------------------------
// Frame-level text cleanups (newstyle.py).

constexpr std::string_view kContextLinePlatforms[] = {"javascript", "node", "python", "php", "ruby"};

bool IsEmptyOpt(OptStr value) {
  return !value || value->empty();
}

OptStr Truthy(OptStr value) {
  return IsEmptyOpt(value) ? OptStr() : value;
}

std::string_view Basename(std::string_view path) {
  const std::size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Python's str.lower() for the scripts file names realistically use.
std::string LowerPython(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = 0;
    char32_t cp = DecodeUtf8At(text, i, &length);
    if (cp == 0xFFFD && length == 1) {
      out += text[i];
      ++i;
      continue;
    }
    if (cp >= 'A' && cp <= 'Z') {
      cp += 32;
    } else if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) || (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) ||
               (cp >= 0x410 && cp <= 0x42F)) {
      cp += 32;
    } else if (cp >= 0x400 && cp <= 0x40F) {
      cp += 80;
    } else if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x138 && cp != 0x149 && cp != 0x17F) {
      // Latin Extended-A alternates upper/lower case pairs (with a shift around U+0139..U+0148).
      const bool odd_is_lower = !(cp >= 0x139 && cp <= 0x148) && !(cp >= 0x179 && cp <= 0x17E);
      if ((cp % 2 == 0) == odd_is_lower) cp += 1;
    }
    AppendUtf8(out, cp);
    i += length;
  }
  return out;
}

bool HasUpperOrNonAscii(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80; });
}

bool MayBeUnicodeSpaceLead(unsigned char c) {
  return c == 0xC2 || c == 0xE1 || c == 0xE2 || c == 0xE3;
}

// " ".join(line.split()): usually just the stripped line, which needs no copy.
std::string_view CollapseWhitespace(EventData& event, std::string_view line) {
  std::size_t begin = 0;
  std::size_t end = line.size();
  while (begin < end && (line[begin] == ' ' || line[begin] == '\t')) ++begin;
  while (end > begin && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  bool simple = true;
  for (std::size_t i = begin; i < end && simple; ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == ' ') {
      simple = line[i + 1] != ' ';
    } else if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || MayBeUnicodeSpaceLead(c)) {
      simple = false;
    }
  }
  if (simple) return line.substr(begin, end - begin);
  std::string out;
  bool pending_space = false;
  for (std::size_t i = 0; i < line.size();) {
    std::size_t length = 0;
    const char32_t cp = DecodeUtf8At(line, i, &length);
    if (IsPythonSpace(cp)) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out += ' ';
      pending_space = false;
      out.append(line.substr(i, length));
    }
    i += length;
  }
  return event.Store(std::move(out));
}

std::size_t CountChars(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

std::string_view RsplitLast(std::string_view text, std::string_view separator) {
  const std::size_t pos = text.rfind(separator);
  return pos == std::string_view::npos ? text : text.substr(pos + separator.size());
}

// _ruby_erb_func: `__\d{4,}_\d{4,}$`
std::string_view StripErbSuffix(std::string_view function) {
  std::size_t end = function.size();
  const auto digits_before = [&](std::size_t pos) {
    std::size_t start = pos;
    while (start > 0 && function[start - 1] >= '0' && function[start - 1] <= '9') --start;
    return start;
  };
  const std::size_t second = digits_before(end);
  if (end - second < 4 || second == 0 || function[second - 1] != '_') return function;
  const std::size_t first_end = second - 1;
  const std::size_t first = digits_before(first_end);
  if (first_end - first < 4 || first < 2 || function.substr(first - 2, 2) != "__") return function;
  return function.substr(0, first - 2);
}

// Java code generators leave unstable names; Sentry replaces the unstable part with "<auto>".
struct JavaCleanup {
  PyRegex javassist;
  std::vector<PyRegex> module_patterns;
};

const JavaCleanup& JavaCleanups() {
  static const JavaCleanup cleanups = [] {
    JavaCleanup c{*PyRegex::Compile(R"re((?P<keep>\$\$_javassist)(?:_seam)?(?:_[0-9]+)?)re"), {}};
    for (const char* pattern : {
             R"re((?P<keep>sun\.reflect\.Generated(?:Serialization)?ConstructorAccessor)\d+)re",
             R"re((?P<keep>\$\$[\w_]+?CGLIB\$\$)[a-fA-F0-9]+(_[0-9]+)?)re",
             R"re((?P<keep>\$\$_javassist)(?:_seam)?(?:_[0-9]+)?)re",
             R"re((?P<keep>\$fn__)\d+)re",
             R"re((?P<keep>\$\$?EnhancerBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?)re",
             R"re((?P<keep>\$\$?FastClassBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?)re",
             R"re((?P<keep>\$\$?HibernateProxy\$?\$)\w+(_[0-9]+)?)re",
         }) {
      c.module_patterns.push_back(*PyRegex::Compile(pattern));
    }
    return c;
  }();
  return cleanups;
}

// ---------------------------------------------------------------------------------------------

struct VariantComponent {
  std::string name;  // with Sentry's "!" prefix for the priority variant
  std::uint32_t node;
};
using VariantMap = std::vector<VariantComponent>;

std::string_view StripBang(std::string_view name) {
  return name.starts_with('!') ? name.substr(1) : name;
}

class Grouper {
 public:
  Grouper(EventData& event, const ProjectRules& rules, const SentryGroupingOptions& options)
      : event_(event), project_rules_(rules), options_(options), rules_(rules.enhancements) {
    normalized_values_.resize(event_.exceptions.size());
    resolver_ = [this](std::int32_t index) -> std::string_view { return NormalizedValue(index); };
  }

  SentryGroupingResult Run();

 private:
  struct FrameParts {
    std::array<std::uint32_t, 4> children{};
    std::uint8_t count = 0;
    bool contributes = false;
    bool low_quality = false;
  };
  struct StacktraceNodes {
    std::uint32_t app;
    std::uint32_t system;
  };
  struct OutVariant {
    std::string name;
    std::optional<std::uint32_t> node;  // component variants
    std::optional<std::string> hash;
    std::string description;
    std::string hint;
    std::vector<std::string> values;
    bool contributes = false;
    bool salted = false;
  };

  std::string_view NormalizedValue(std::int32_t index) {
    auto& slot = normalized_values_[static_cast<std::size_t>(index)];
    if (!slot)
      slot = NormalizeMessageForGrouping(
          event_.Read(event_.exceptions[static_cast<std::size_t>(index)].value).value_or(""));
    return *slot;
  }

  std::string_view PlatformOf(const FrameData& frame) const {
    return frame.platform ? *frame.platform : event_.platform;
  }

  struct MatchFrames {
    std::vector<char> buffer;
    std::vector<MatchFrame> frames;
  };
  MatchFrames MakeMatchFrames(const StacktraceData& stacktrace) const;
  void ApplyStacktraceRules();
  FrameParts BuildFrame(const FrameData& frame);
  StacktraceNodes BuildStacktrace(const StacktraceData& stacktrace, const MatchException& exception);
  VariantMap BuildException(std::size_t index);
  VariantMap ChainedExceptionStrategy();
  std::vector<std::size_t> FilterExceptionGroups(const std::vector<VariantMap>& components);
  VariantMap ThreadsStrategy();
  VariantMap ThreadComponents(const ThreadData& thread);
  VariantMap StacktraceStrategy();
  VariantMap TemplateStrategy();
  VariantMap MessageStrategy();
  void PostProcess(VariantMap& variants, bool remove_non_stacktrace);

  /// Hash of a contributing node. A parent with a single contributing child hashes like the child,
  /// which lets the variant roots reuse the hashes computed while deduplicating variants.
  std::string CachedHash(std::uint32_t node) {
    if (const auto it = hash_cache_.find(node); it != hash_cache_.end()) return it->second;
    const CNode& n = tree_[node];
    std::optional<std::uint32_t> only_child;
    if (!n.is_leaf && n.contributes) {
      int contributing = 0;
      for (std::uint32_t i = 0; i < n.count; ++i) {
        const std::uint32_t child = tree_.ChildrenOf(node)[i];
        if (tree_[child].contributes) {
          ++contributing;
          only_child = child;
        }
      }
      if (contributing != 1) only_child.reset();
    }
    std::string hash = only_child ? CachedHash(*only_child) : tree_.Hash(node, resolver_);
    hash_cache_.emplace(node, hash);
    return hash;
  }

  EventData& event_;
  const ProjectRules& project_rules_;
  const SentryGroupingOptions& options_;
  RuleSet rules_;
  Tree tree_;
  std::vector<std::optional<std::string>> normalized_values_;
  Tree::Resolver resolver_;
  std::unordered_map<std::uint32_t, std::string> hash_cache_;
  // The rules' view of each stack trace, built for the classifier phase and reused (with the
  // in_app and category values it ended with) by the contributes phase.
  std::unordered_map<const StacktraceData*, MatchFrames> match_frames_;
};

Grouper::MatchFrames Grouper::MakeMatchFrames(const StacktraceData& stacktrace) const {
  MatchFrames out;
  std::size_t total = 0;
  for (const FrameData& frame : stacktrace.frames) {
    // The filename can be copied twice (as the path when there is no abs_path).
    for (const OptStr& field : {frame.package, frame.abs_path, frame.filename, frame.filename}) {
      total += field ? field->size() : 0;
    }
  }
  out.buffer.reserve(total);
  // Folded copies live in one buffer that is never reallocated (reserved up front).
  const auto fold = [&out](OptStr value) -> OptStr {
    if (!value) return std::nullopt;
    const std::size_t begin = out.buffer.size();
    out.buffer.resize(begin + value->size());
    char* dest = out.buffer.data() + begin;
    for (const char c : *value) {
      const char folded = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      *dest++ = folded == '\\' ? '/' : folded;
    }
    return std::string_view(out.buffer.data() + begin, value->size());
  };
  out.frames.reserve(stacktrace.frames.size());
  for (const FrameData& frame : stacktrace.frames) {
    MatchFrame match;
    switch (FamilyOfPlatform(PlatformOf(frame))) {
      case Family::kNative: match.family = kFamilyNative; break;
      case Family::kJavascript: match.family = kFamilyJavascript; break;
      case Family::kOther: match.family = kFamilyOther; break;
    }
    if (!IsEmptyOpt(frame.function)) match.function = *frame.function;
    match.module = frame.module;
    match.package = fold(frame.package);
    match.path = fold(!IsEmptyOpt(frame.abs_path) ? frame.abs_path : frame.filename);
    match.filename = fold(frame.filename);
    match.category = frame.category;
    match.in_app = frame.in_app;
    out.frames.push_back(match);
  }
  return out;
}

// normalize_stacktraces_for_grouping: the classifier rules set in_app and categories on every
// stack trace; frames the rules leave undecided are not in-app.
void Grouper::ApplyStacktraceRules() {
  const auto apply = [this](StacktraceData& stacktrace, const MatchException& exception) {
    MatchFrames& match = match_frames_[&stacktrace] = MakeMatchFrames(stacktrace);
    ApplyClassifiers(rules_, match.frames, exception);
    for (std::size_t i = 0; i < match.frames.size(); ++i) {
      stacktrace.frames[i].in_app = match.frames[i].in_app.value_or(false);
      stacktrace.frames[i].category = match.frames[i].category;
    }
  };
  for (auto& exception : event_.exceptions) {
    if (!exception.stacktrace) continue;
    const MatchException data{exception.type, exception.mechanism ? exception.mechanism->type : std::nullopt, &event_,
                              &exception.value};
    apply(*exception.stacktrace, data);
  }
  if (event_.stacktrace) apply(*event_.stacktrace, {});
  if (event_.threads) {
    for (auto& thread : *event_.threads) {
      if (thread.stacktrace) apply(*thread.stacktrace, {});
    }
  }
}

Grouper::FrameParts Grouper::BuildFrame(const FrameData& frame) {
  const std::string_view platform = PlatformOf(frame);
  const Family family = FamilyOfPlatform(platform);
  Tree& t = tree_;

  // filename: the lowercased basename, unless the frame points to a URL or is anonymous.
  std::uint32_t filename = 0;
  if (!frame.filename) {
    filename = t.Empty(Cid::kFilename);
  } else {
    std::string_view name = Basename(*frame.filename);
    if (HasUpperOrNonAscii(name)) name = event_.Store(LowerPython(name));
    filename = t.Leaf(Cid::kFilename, {{name}});
    if (HasUrlOrigin(frame.abs_path, false)) {
      t.Update(filename, false, "ignored because frame points to a URL");
    } else if (name == "<anonymous>") {
      t.Update(filename, false, "ignored because filename is anonymous");
    } else if (name == "[native code]") {
      t.Update(filename, false, "ignored because filename suggests native code");
    } else if (platform == "java" && name.find("$$_javassist") != std::string_view::npos) {
      t.SetValue(filename, {event_.Store(JavaCleanups().javassist.ReplaceKeeping(name, "<auto>"))});
      t.Update(filename, true, "cleaned javassist parts");
    }
  }

  // module, which takes precedence over the filename.
  std::uint32_t module = 0;
  if (!frame.module) {
    module = t.Empty(Cid::kModule);
  } else {
    const std::string_view value = *frame.module;
    module = t.Leaf(Cid::kModule, {{value}});
    if (platform == "javascript" && value.find('/') != std::string_view::npos && !IsEmptyOpt(frame.abs_path) &&
        frame.abs_path->ends_with(value)) {
      t.Update(module, false, "ignored bad javascript module");
    } else if (platform == "java") {
      if (value.find("$$Lambda$") != std::string_view::npos) t.Update(module, false, "ignored java lambda");
      // Replacing the value recomputes `contributes`, as Sentry's update(values=...) does.
      if (value.starts_with("sun.reflect.GeneratedMethodAccessor")) {
        t.SetValue(module, {"sun.reflect.GeneratedMethodAccessor"});
        t[module].hint = "removed reflection marker";
      } else if (value.starts_with("jdk.internal.reflect.GeneratedMethodAccessor")) {
        t.SetValue(module, {"jdk.internal.reflect.GeneratedMethodAccessor"});
        t[module].hint = "removed reflection marker";
      } else if (value.find('$') != std::string_view::npos || value.find("Accessor") != std::string_view::npos) {
        std::string cleaned(value);
        for (const auto& pattern : JavaCleanups().module_patterns) cleaned = pattern.ReplaceKeeping(cleaned, "<auto>");
        if (cleaned != value) {
          t.SetValue(module, {event_.Store(std::move(cleaned))});
          t[module].hint = "removed codegen marker";
        }
      }
    }
  }
  if (t[module].contributes && t[filename].contributes) {
    t.Update(filename, false, "ignored because module takes precedence");
  }

  // context line, on platforms whose source lines are trustworthy.
  std::optional<std::uint32_t> context_line;
  if (!IsEmptyOpt(frame.context_line) && std::find(std::begin(kContextLinePlatforms), std::end(kContextLinePlatforms),
                                                   platform) != std::end(kContextLinePlatforms)) {
    const std::string_view line = CollapseWhitespace(event_, *frame.context_line);
    if (line.empty()) {
      context_line = t.Empty(Cid::kContextLine);
    } else {
      context_line = t.Leaf(Cid::kContextLine, {{line}});
      if (CountChars(*frame.context_line) > 120) {
        t.Update(*context_line, false, "ignored because line is too long");
      } else if (family == Family::kJavascript && IsEmptyOpt(frame.function) && HasUrlOrigin(frame.abs_path, true)) {
        t.Update(*context_line, false, "ignored because file path is a URL and function name is missing");
      }
    }
  }

  // function
  std::uint32_t function = 0;
  const OptStr func = platform == "csharp" ? (Truthy(frame.raw_function) ? frame.raw_function : Truthy(frame.function))
                                           : (Truthy(frame.function) ? frame.function : Truthy(frame.raw_function));
  if (!func) {
    function = t.Empty(Cid::kFunction);
  } else {
    const std::string_view value = *func;
    function = t.Leaf(Cid::kFunction, {{value}});
    if (platform == "ruby") {
      if (value.starts_with("block ")) {
        t.SetValue(function, {"block"});
        t[function].hint = "ruby block";
      } else if (const std::string_view stripped = StripErbSuffix(value); stripped.size() != value.size()) {
        t.SetValue(function, {stripped});
        t[function].hint = "removed generated erb template suffix";
      }
    } else if (platform == "php") {
      if (value.starts_with("[Anonymous") || value.starts_with(std::string_view("class@anonymous\0", 16))) {
        t.Update(function, false, "ignored anonymous function");
      }
      if (value.starts_with("class@anonymous")) {
        if (const std::string_view method = RsplitLast(value, "::"); method.size() != value.size()) {
          t.SetValue(function, {method});
          t[function].hint = "anonymous class method";
        }
      }
    } else if (platform == "java") {
      if (value.starts_with("lambda$")) t.Update(function, false, "ignored lambda function");
    } else if (family == Family::kNative && (value == "<redacted>" || value == "<unknown>")) {
      t.Update(function, false, "ignored unknown function");
    } else if (family == Family::kJavascript) {
      if (const std::string_view trimmed = RsplitLast(value, "."); trimmed.size() != value.size()) {
        t.SetValue(function, {trimmed});
        t[function].hint = "trimmed javascript function";
      }
      if (frame.sourcemap && context_line && t[*context_line].contributes) {
        t.Update(function, false, "ignored because sourcemap used and context line available");
      }
    }
  }

  FrameParts parts;
  parts.children = {module, filename, function, context_line.value_or(0)};
  parts.count = context_line ? 4 : 3;
  // The frame's own contribution is decided now, before the JavaScript checks below touch the
  // function component (Sentry computes it when the frame component is created).
  for (std::uint8_t i = 0; i < parts.count; ++i)
    parts.contributes = parts.contributes || t[parts.children[i]].contributes;

  if (family == Family::kJavascript) {
    OptStr js_func = Truthy(frame.raw_function) ? frame.raw_function : Truthy(frame.function);
    if (js_func) js_func = RsplitLast(*js_func, ".");
    if (IsEmptyOpt(js_func)) {
      t.Update(function, false);
    } else if (*js_func == "?" || *js_func == "<anonymous function>" || *js_func == "<anonymous>" ||
               *js_func == "Anonymous function" || js_func->ends_with("/<")) {
      t.Update(function, false, "ignored unknown function name");
    }
    const std::string_view abs_path = frame.abs_path.value_or("");
    if ((js_func && *js_func == "eval") ||
        (frame.abs_path && (abs_path == "[native code]" || abs_path == "native code" || abs_path == "eval code" ||
                            abs_path == "<anonymous>"))) {
      parts.low_quality = true;
    }
  }
  return parts;
}

bool SameFrame(const FrameData& a, const FrameData& b) {
  return a.abs_path == b.abs_path && a.package == b.package && a.module == b.module && a.filename == b.filename &&
         a.function == b.function && a.lineno == b.lineno && a.colno == b.colno;
}

Grouper::StacktraceNodes Grouper::BuildStacktrace(const StacktraceData& stacktrace, const MatchException& exception) {
  const std::size_t n = stacktrace.frames.size();
  std::vector<FrameParts> parts;
  parts.reserve(n);
  std::vector<bool> system(n);
  std::vector<bool> app(n);
  std::vector<std::string_view> hints(n);
  for (std::size_t i = 0; i < n; ++i) {
    const FrameData& frame = stacktrace.frames[i];
    parts.push_back(BuildFrame(frame));
    bool contributes = parts.back().contributes;
    if (parts.back().low_quality) {
      contributes = false;
      hints[i] = "ignored low quality javascript frame";
    }
    if (i > 0 && SameFrame(frame, stacktrace.frames[i - 1])) {
      contributes = false;
      hints[i] = "ignored due to recursion";
    }
    system[i] = contributes;
    app[i] = contributes && frame.in_app.value_or(false);
  }
  // A lone JavaScript frame without a function is too weak to group on. The 2023 config keeps
  // Sentry's long-standing inverted check: the frame is dropped when it *does* point to a URL.
  if (n == 1) {
    const FrameData& frame = stacktrace.frames[0];
    if (FamilyOfPlatform(PlatformOf(frame)) == Family::kJavascript && IsEmptyOpt(frame.function) &&
        HasUrlOrigin(frame.abs_path, true)) {
      system[0] = false;
      app[0] = false;
    }
  }

  auto cached = match_frames_.find(&stacktrace);
  if (cached == match_frames_.end()) cached = match_frames_.emplace(&stacktrace, MakeMatchFrames(stacktrace)).first;
  const ContributesMatches matches = MatchContributes(rules_, cached->second.frames, exception);
  std::vector<const std::string*> system_rule_hints(n, nullptr);
  std::vector<const std::string*> app_rule_hints(n, nullptr);
  const bool collect = options_.collect_details;
  bool system_contributes = AssembleContributes(matches, system, collect ? &system_rule_hints : nullptr);
  bool app_contributes = AssembleContributes(matches, app, collect ? &app_rule_hints : nullptr);

  std::vector<std::uint32_t> system_frames(n);
  std::vector<std::uint32_t> app_frames(n);
  std::size_t total_in_app = 0;
  std::size_t in_app_contributing = 0;
  std::size_t total_contributing = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool in_app = stacktrace.frames[i].in_app.value_or(false);
    if (!in_app) app[i] = false;
    system_frames[i] = tree_.Parent(Cid::kFrame, parts[i].children.data(), parts[i].count);
    app_frames[i] = tree_.Parent(Cid::kFrame, parts[i].children.data(), parts[i].count);
    tree_.Update(system_frames[i], system[i], hints[i]);
    tree_.Update(app_frames[i], app[i], in_app ? hints[i] : std::string_view("non app frame"));
    if (collect && system_rule_hints[i] != nullptr) {
      tree_[system_frames[i]].hint =
          event_.Store((system[i] ? "un-ignored by stack trace rule (" : "ignored by stack trace rule (") +
                       *system_rule_hints[i] + ")");
    }
    if (collect && in_app && app_rule_hints[i] != nullptr) {
      tree_[app_frames[i]].hint = event_.Store(
          (app[i] ? "un-ignored by stack trace rule (" : "ignored by stack trace rule (") + *app_rule_hints[i] + ")");
    }
    total_in_app += in_app ? 1 : 0;
    in_app_contributing += (in_app && system[i]) ? 1 : 0;
    total_contributing += system[i] ? 1 : 0;
  }
  StacktraceNodes nodes{tree_.Parent(Cid::kStacktrace, app_frames), tree_.Parent(Cid::kStacktrace, system_frames)};
  tree_.Update(nodes.system, system_contributes);
  tree_.Update(nodes.app, app_contributes);
  if (total_contributing == 0) {
    tree_.Update(nodes.system, false, "ignored because it contains no contributing frames");
  }
  if (total_in_app == 0) {
    tree_.Update(nodes.app, false, "ignored because it contains no in-app frames");
  } else if (in_app_contributing == 0) {
    tree_.Update(nodes.app, false, "ignored because it contains no contributing frames");
  }
  return nodes;
}

VariantMap Grouper::BuildException(std::size_t index) {
  const ExceptionData& exception = event_.exceptions[index];
  const std::uint32_t type =
      IsEmptyOpt(exception.type) ? tree_.Empty(Cid::kType) : tree_.Leaf(Cid::kType, {{*exception.type}});
  std::optional<std::uint32_t> ns_error;
  if (exception.mechanism) {
    if (exception.mechanism->synthetic) tree_.Update(type, false, "ignored because exception is synthetic");
    if (exception.mechanism->has_ns_error) {
      const std::array<std::uint32_t, 2> parts{
          tree_.Leaf(Cid::kNsErrorDomain, {{exception.mechanism->ns_error_domain}}),
          tree_.Leaf(Cid::kNsErrorCode, {{exception.mechanism->ns_error_code}})};
      ns_error = tree_.Parent(Cid::kNsError, parts.data(), parts.size());
    }
  }
  VariantMap stacktraces;
  if (exception.stacktrace) {
    const MatchException data{exception.type, exception.mechanism ? exception.mechanism->type : std::nullopt, &event_,
                              &exception.value};
    const StacktraceNodes nodes = BuildStacktrace(*exception.stacktrace, data);
    stacktraces = {{"!app", nodes.app}, {"system", nodes.system}};
  } else {
    stacktraces = {{"!app", tree_.Empty(Cid::kStacktrace)}};
  }
  VariantMap out;
  for (const auto& [name, stacktrace] : stacktraces) {
    // An empty value normalizes to nothing and does not contribute; any other value normalizes
    // to a non-empty string, computed only if it is hashed.
    const std::uint32_t value = EventData::IsEmpty(exception.value)
                                    ? tree_.Empty(Cid::kValue)
                                    : tree_.Leaf(Cid::kValue, {{{}, static_cast<std::int32_t>(index)}});
    if (tree_[stacktrace].contributes && tree_[value].contributes) {
      tree_.Update(value, false, "ignored because stacktrace takes precedence");
    }
    if (ns_error && tree_[*ns_error].contributes && tree_[value].contributes) {
      tree_.Update(value, false, "ignored because ns-error info takes precedence");
    }
    // The 2023 config's subcomponent order: stacktrace, type, ns-error, value.
    std::vector<std::uint32_t> children{stacktrace, type};
    if (ns_error) children.push_back(*ns_error);
    children.push_back(value);
    out.push_back({name, tree_.Parent(Cid::kException, children)});
  }
  return out;
}

// RFC 0079 exception groups: group by the distinct top-level exceptions of the group tree
// instead of every member.
std::vector<std::size_t> Grouper::FilterExceptionGroups(const std::vector<VariantMap>& components) {
  const auto& exceptions = event_.exceptions;
  std::vector<std::size_t> all(exceptions.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  if (exceptions.size() <= 1) return all;
  // Sentry skips the filter for Python SDK 3.x events to keep their hashes stable.
  if (event_.platform == "python" && event_.sdk_version && event_.sdk_version->starts_with("3")) return all;

  struct Node {
    std::optional<std::size_t> exception;
    std::vector<std::size_t> children;
  };
  std::vector<std::pair<std::int64_t, Node>> tree;
  const auto node_for = [&tree](std::int64_t id) -> Node& {
    for (auto& [node_id, node] : tree) {
      if (node_id == id) return node;
    }
    return tree.emplace_back(id, Node{}).second;
  };
  std::unordered_set<std::int64_t> seen;
  for (std::size_t k = exceptions.size(); k-- > 0;) {
    const auto& mechanism = exceptions[k].mechanism;
    if (!mechanism || !mechanism->exception_id || mechanism->exception_id == mechanism->parent_id ||
        seen.count(*mechanism->exception_id) != 0) {
      return all;
    }
    seen.insert(*mechanism->exception_id);
    node_for(*mechanism->exception_id).exception = k;
    if (mechanism->parent_id) node_for(*mechanism->parent_id).children.push_back(k);
  }
  const auto children_of = [&](std::size_t index) -> const std::vector<std::size_t>* {
    const std::int64_t id = *exceptions[index].mechanism->exception_id;
    for (const auto& [node_id, node] : tree) {
      if (node_id == id) return &node.children;
    }
    return nullptr;
  };
  std::optional<std::size_t> root;
  for (const auto& [node_id, node] : tree) {
    if (node_id == 0) root = node.exception;
  }
  if (!root) return all;

  std::vector<std::size_t> top_level;
  std::vector<bool> visiting(exceptions.size(), false);
  bool cycle = false;
  const std::function<void(std::size_t)> collect = [&](std::size_t index) {
    if (visiting[index]) {
      cycle = true;
      return;
    }
    if (!exceptions[index].mechanism->is_exception_group) {
      top_level.push_back(index);
      return;
    }
    visiting[index] = true;
    if (const auto* children = children_of(index)) {
      for (const std::size_t child : *children) {
        collect(child);
        if (cycle) return;
      }
    }
    visiting[index] = false;
  };
  collect(*root);
  if (cycle || top_level.empty()) return all;
  const auto type_key = [&](std::size_t index) {
    return exceptions[index].type ? std::string(*exceptions[index].type) : std::string("None");
  };
  std::stable_sort(top_level.begin(), top_level.end(),
                   [&](std::size_t a, std::size_t b) { return type_key(a) > type_key(b); });
  // Consecutive exceptions with identical components count once (itertools.groupby).
  const auto repr = [&](std::size_t index) {
    std::string out;
    for (const auto& [name, node] : components[index]) out += tree_.Repr(node, resolver_);
    return out;
  };
  std::vector<std::size_t> distinct;
  std::string previous;
  for (const std::size_t index : top_level) {
    std::string key = repr(index);
    if (distinct.empty() || key != previous) distinct.push_back(index);
    previous = std::move(key);
  }
  if (distinct.size() == 1) {
    std::vector<std::size_t> path;
    std::vector<bool> on_path(exceptions.size(), false);
    for (std::size_t current = distinct[0];;) {
      if (on_path[current]) return all;
      on_path[current] = true;
      path.push_back(current);
      const auto* children = children_of(current);
      if (children == nullptr || children->empty()) break;
      current = children->front();
    }
    return path;
  }
  distinct.push_back(*root);
  return distinct;
}

VariantMap Grouper::ChainedExceptionStrategy() {
  if (event_.exceptions.empty()) return {};
  std::vector<VariantMap> components;
  components.reserve(event_.exceptions.size());
  for (std::size_t i = 0; i < event_.exceptions.size(); ++i) components.push_back(BuildException(i));
  const std::vector<std::size_t> selected = FilterExceptionGroups(components);
  if (selected.size() == 1) return components[selected[0]];
  std::vector<std::pair<std::string, std::vector<std::uint32_t>>> by_name;
  for (const std::size_t index : selected) {
    for (const auto& [name, node] : components[index]) {
      auto it = std::find_if(by_name.begin(), by_name.end(), [&](const auto& entry) { return entry.first == name; });
      if (it == by_name.end()) it = by_name.insert(by_name.end(), {name, {}});
      it->second.push_back(node);
    }
  }
  VariantMap out;
  for (const auto& [name, nodes] : by_name) out.push_back({name, tree_.Parent(Cid::kChainedException, nodes)});
  return out;
}

VariantMap Grouper::ThreadComponents(const ThreadData& thread) {
  if (!thread.stacktrace) {
    const std::uint32_t node = tree_.Empty(Cid::kThreads);
    tree_[node].hint = "ignored because thread has no stacktrace";
    return {{"app", node}};
  }
  const StacktraceNodes nodes = BuildStacktrace(*thread.stacktrace, {});
  return {{"!app", tree_.Parent(Cid::kThreads, &nodes.app, 1)},
          {"system", tree_.Parent(Cid::kThreads, &nodes.system, 1)}};
}

VariantMap Grouper::ThreadsStrategy() {
  if (!event_.threads) return {};
  const auto& threads = *event_.threads;
  const auto single = [&](const auto& predicate) -> const ThreadData* {
    const ThreadData* found = nullptr;
    int count = 0;
    for (const auto& thread : threads) {
      if (predicate(thread)) {
        found = &thread;
        ++count;
      }
    }
    return count == 1 ? found : nullptr;
  };
  if (const auto* thread = single([](const ThreadData& t) { return t.crashed; })) return ThreadComponents(*thread);
  if (const auto* thread = single([](const ThreadData& t) { return t.current; })) return ThreadComponents(*thread);
  if (threads.size() == 1) return ThreadComponents(threads[0]);
  const std::uint32_t node = tree_.Empty(Cid::kThreads);
  tree_[node].hint =
      "ignored because it contains neither a single thread nor multiple threads with exactly one "
      "crashing or current thread";
  return {{"app", node}};
}

VariantMap Grouper::StacktraceStrategy() {
  if (!event_.stacktrace) return {};
  const StacktraceNodes nodes = BuildStacktrace(*event_.stacktrace, {});
  return {{"!app", nodes.app}, {"system", nodes.system}};
}

VariantMap Grouper::TemplateStrategy() {
  if (!event_.has_template) return {};
  const std::array<std::uint32_t, 2> parts{
      event_.template_filename ? tree_.Leaf(Cid::kFilename, {{*event_.template_filename}})
                               : tree_.Empty(Cid::kFilename),
      event_.template_context_line ? tree_.Leaf(Cid::kContextLine, {{*event_.template_context_line}})
                                   : tree_.Empty(Cid::kContextLine)};
  return {{"default", tree_.Parent(Cid::kTemplate, parts.data(), parts.size())}};
}

VariantMap Grouper::MessageStrategy() {
  if (!event_.has_logentry) return {};
  const OptStr raw =
      Truthy(event_.logentry_message) ? event_.logentry_message : Truthy(event_.Read(event_.logentry_formatted));
  std::string normalized = NormalizeMessageForGrouping(raw.value_or(""));
  const bool changed = normalized != raw.value_or("");
  const std::uint32_t node = tree_.Leaf(Cid::kMessage, {{event_.Store(std::move(normalized))}});
  if (changed) tree_[node].hint = "stripped event-specific values";
  return {{"default", node}};
}

void Grouper::PostProcess(VariantMap& variants, bool remove_non_stacktrace) {
  // A non-priority variant (system) that hashes like the priority variant (app) is redundant.
  std::vector<std::pair<std::string, std::string>> priority_hashes;
  for (const auto& [name, node] : variants) {
    if (name.starts_with('!') && tree_[node].contributes) {
      priority_hashes.emplace_back(CachedHash(node), std::string(StripBang(name)));
    }
  }
  if (!priority_hashes.empty()) {
    for (const auto& [name, node] : variants) {
      if (name.starts_with('!') || !tree_[node].contributes) continue;
      const std::string hash = CachedHash(node);
      for (const auto& [priority_hash, priority_name] : priority_hashes) {
        if (priority_hash == hash) {
          tree_.Update(node, false, event_.Store("ignored because hash matches " + priority_name + " variant"));
        }
      }
    }
  }
  if (!remove_non_stacktrace || variants.size() <= 1) return;
  std::vector<std::string_view> with_stacktrace;
  for (const auto& [name, node] : variants) {
    if (tree_.HasContributingStacktrace(node)) with_stacktrace.push_back(StripBang(name));
  }
  if (with_stacktrace.empty()) return;
  const std::string hint = "ignored because this variant does not have a contributing stacktrace, but " +
                           (with_stacktrace.size() == 1 ? "the " + std::string(with_stacktrace[0]) + " variant does"
                                                        : std::string("others do"));
  for (const auto& [name, node] : variants) {
    if (!tree_.HasContributingStacktrace(node)) tree_.Update(node, false, event_.Store(hint));
  }
}

SentryGroupingResult Grouper::Run() {
  SentryGroupingResult result;
  result.config = kSentryConfig2023;

  // A legacy checksum replaces grouping entirely.
  if (!IsEmptyOpt(event_.checksum)) {
    const std::string_view checksum = *event_.checksum;
    std::string_view hex = checksum;
    if (hex.ends_with('\n')) hex.remove_suffix(1);  // Python's `$` also matches before a final newline
    const bool is_hash = hex.size() == 32 && std::all_of(hex.begin(), hex.end(), [](char c) {
                           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                         });
    if (is_hash) {
      result.hashes.emplace_back(checksum);
      result.variants.push_back({"checksum", std::string(checksum), "legacy checksum", {}, {}, {}});
      return result;
    }
    // Sentry's 2023-era code kept the raw value as a second hash when it fits the 32-character column.
    if (CountChars(checksum) <= 32) {
      result.hashes.emplace_back(checksum);
      result.variants.push_back({"checksum", std::string(checksum), "legacy checksum", {}, {}, {}});
    }
    std::string hashed = Md5Hex(checksum);
    result.hashes.push_back(hashed);
    result.variants.push_back({"hashed_checksum", hashed, "hashed legacy checksum", {}, {}, {}});
    return result;
  }

  tree_.Reserve(256);
  ApplyStacktraceRules();

  // Server-side fingerprinting runs on the normalized event.
  bool builtin_fingerprint = false;
  if (const auto match = MatchFingerprintRules(project_rules_.fingerprinting, event_)) {
    const CompiledFingerprintRule& rule = *match->rule;
    if (rule.title) result.title = ExpandTitleTemplate(*rule.title, event_);
    std::vector<std::string_view> fingerprint;
    for (const auto& value : rule.fingerprint) fingerprint.push_back(event_.Store(value));
    event_.fingerprint = std::move(fingerprint);
    result.matched_rule = rule.text;
    builtin_fingerprint = rule.is_builtin;
  }

  // Strategies in priority order; the first one that produces a contributing component wins and
  // every later one is silenced.
  struct Strategy {
    const char* name;
    VariantMap variants;
    bool remove_non_stacktrace;
  };
  std::vector<Strategy> strategies;
  strategies.push_back({"exception", ChainedExceptionStrategy(), true});
  strategies.push_back({"threads", ThreadsStrategy(), true});
  strategies.push_back({"stacktrace", StacktraceStrategy(), true});
  strategies.push_back({"template", TemplateStrategy(), false});
  strategies.push_back({"message", MessageStrategy(), false});

  std::string winner;
  std::string precedence_hint;
  std::vector<std::pair<std::string, std::vector<std::uint32_t>>> per_variant;
  for (auto& strategy : strategies) {
    PostProcess(strategy.variants, strategy.remove_non_stacktrace);
    for (const auto& [raw_name, node] : strategy.variants) {
      const std::string name(StripBang(raw_name));
      auto it = std::find_if(per_variant.begin(), per_variant.end(), [&](const auto& e) { return e.first == name; });
      if (it == per_variant.end()) it = per_variant.insert(per_variant.end(), {name, {}});
      it->second.push_back(node);
      if (!tree_[node].contributes) continue;
      if (winner.empty()) {
        winner = strategy.name;
        std::vector<std::string> contributing;
        for (const auto& [other_name, other_node] : strategy.variants) {
          if (tree_[other_node].contributes) contributing.emplace_back(StripBang(other_name));
        }
        std::sort(contributing.begin(), contributing.end());
        std::string descriptor;
        for (const auto& c : contributing) descriptor += (descriptor.empty() ? "" : "/") + c;
        precedence_hint = (name != "default" ? winner + " of " + descriptor : winner) +
                          (winner.ends_with('s') ? " take precedence" : " takes precedence");
      } else if (winner != strategy.name) {
        tree_.Update(node, false, event_.Store(precedence_hint));
      }
    }
  }

  std::vector<OutVariant> variants;
  for (const auto& [name, nodes] : per_variant) {
    const Cid root_id = name == "app" ? Cid::kApp : (name == "system" ? Cid::kSystem : Cid::kDefault);
    const std::uint32_t root = tree_.Parent(root_id, nodes);
    if (!tree_[root].contributes && !precedence_hint.empty()) tree_[root].hint = event_.Store(precedence_hint);
    OutVariant variant;
    variant.name = name;
    variant.node = root;
    variants.push_back(std::move(variant));
  }

  // Fingerprints: the default one keeps the strategy variants; a custom one replaces them; a
  // hybrid one ("{{ default }}" plus more) salts each of them.
  std::vector<std::string_view> raw_fingerprint;
  if (event_.fingerprint && !event_.fingerprint->empty()) {
    raw_fingerprint = *event_.fingerprint;
  } else {
    raw_fingerprint = {"{{ default }}"};
  }
  const std::size_t defaults =
      static_cast<std::size_t>(std::count_if(raw_fingerprint.begin(), raw_fingerprint.end(),
                                             [](std::string_view v) { return IsDefaultFingerprintVariable(v); }));
  const bool is_default = raw_fingerprint.size() == 1 && defaults == 1;
  const bool is_custom = defaults == 0;
  std::vector<std::string> resolved;
  if (!is_default) resolved = ResolveFingerprint(raw_fingerprint, event_);

  for (auto& variant : variants) {
    const std::uint32_t root = *variant.node;
    if (is_custom) tree_.Update(root, false, "custom fingerprint takes precedence");
    variant.contributes = tree_[root].contributes;
    variant.hint = tree_[root].contributes ? std::string() : std::string(tree_[root].hint);
    variant.description = tree_.Description(root);
    if (!variant.contributes) continue;
    if (is_default) {
      variant.hash = CachedHash(root);
      if (options_.collect_details) {
        tree_.IterValues(root, resolver_, [&](std::string_view v) { variant.values.emplace_back(v); });
      }
    } else {
      // Salted: "{{ default }}" expands to the variant's values.
      Md5 md5;
      for (const auto& value : resolved) {
        if (IsDefaultFingerprintVariable(value)) {
          tree_.IterValues(root, resolver_, [&](std::string_view v) {
            md5.Update(v);
            if (options_.collect_details) variant.values.emplace_back(v);
          });
        } else {
          md5.Update(value);
          if (options_.collect_details) variant.values.push_back(value);
        }
      }
      variant.hash = md5.FinishHex();
      variant.description = "modified " + variant.description;
    }
  }
  if (is_custom) {
    OutVariant custom;
    custom.name = builtin_fingerprint ? "built_in_fingerprint" : "custom_fingerprint";
    custom.description = builtin_fingerprint ? "Sentry defined fingerprint" : "custom fingerprint";
    Md5 md5;
    for (const auto& value : resolved) md5.Update(value);
    custom.hash = md5.FinishHex();
    custom.contributes = true;
    if (options_.collect_details) custom.values = resolved;
    variants.push_back(std::move(custom));
  }
  if (std::none_of(variants.begin(), variants.end(), [](const OutVariant& v) { return v.contributes; })) {
    OutVariant fallback;
    fallback.name = "fallback";
    fallback.description = "fallback";
    fallback.hash = Md5Hex("");
    fallback.contributes = true;
    variants.push_back(std::move(fallback));
  }

  // Hash order: every contributing variant, `system` last.
  std::stable_partition(variants.begin(), variants.end(), [](const OutVariant& v) { return v.name != "system"; });
  for (auto& variant : variants) {
    if (variant.hash) result.hashes.push_back(*variant.hash);
    Variant out;
    out.name = variant.name;
    out.hash = variant.hash;
    out.description = std::move(variant.description);
    out.hint = std::move(variant.hint);
    out.values = std::move(variant.values);
    if (options_.collect_details && variant.node) out.tree = tree_.Render(*variant.node, resolver_, 0);
    result.variants.push_back(std::move(out));
  }
  return result;
}

}  // namespace
}  // namespace detail

SentryGroupingResult ComputeSentryGrouping(const rapidjson::Value& event, const ProjectRules& rules,
                                           const SentryGroupingOptions& options) {
  detail::EventData data = detail::ParseEvent(event);
  detail::Grouper grouper(data, rules, options);
  return grouper.Run();
}

namespace {

struct MemoKey {
  std::uint64_t parts[2];
  bool operator==(const MemoKey& other) const { return parts[0] == other.parts[0] && parts[1] == other.parts[1]; }
};
struct MemoKeyHash {
  std::size_t operator()(const MemoKey& key) const { return static_cast<std::size_t>(key.parts[0]); }
};

}  // namespace

// Under a stable key: the result, or (read_watched) the note that results for that key depend on
// the watched fields and are filed under the second key.
struct GroupingMemo::Entries {
  struct Entry {
    bool read_watched = false;
    SentryGroupingResult result;
  };
  std::unordered_map<MemoKey, Entry, MemoKeyHash> map;
};

GroupingMemo::GroupingMemo(std::size_t capacity)
    : entries_(std::make_unique<Entries>()), capacity_(std::max<std::size_t>(capacity, 1)) {}
GroupingMemo::~GroupingMemo() = default;

std::size_t GroupingMemo::Size() const {
  return entries_->map.size();
}

const SentryGroupingResult& GroupingMemo::Compute(const rapidjson::Value& event, const ProjectRules& rules,
                                                  std::uint64_t rules_id) {
  detail::EventData data = detail::ParseEvent(event);
  MemoKey stable;
  data.HashStable(rules_id, stable.parts);
  auto& map = entries_->map;
  std::optional<MemoKey> watched;
  if (const auto it = map.find(stable); it != map.end()) {
    if (!it->second.read_watched) {
      ++hits_;
      return it->second.result;
    }
    watched.emplace();
    data.HashWatched(stable.parts, watched->parts);
    if (const auto full = map.find(*watched); full != map.end()) {
      ++hits_;
      return full->second.result;
    }
  }
  ++misses_;
  // Both keys before grouping runs (which sets in_app, categories, a rule's fingerprint). Until
  // grouping first reads a watched field it sees only what the stable key covers, so whether it
  // reads one at all is the same for every event with this key.
  if (!watched) {
    watched.emplace();
    data.HashWatched(stable.parts, watched->parts);
  }
  const SentryGroupingOptions options;
  detail::Grouper grouper(data, rules, options);
  SentryGroupingResult result = grouper.Run();
  if (map.size() + 2 > capacity_) map.clear();
  if (!data.ReadWatched()) return (map[stable] = {false, std::move(result)}).result;
  map[stable] = {true, {}};
  // Elements of an unordered_map keep their address when it grows: the reference stays valid.
  return (map[*watched] = {false, std::move(result)}).result;
}

}  // namespace rookery::grouping
