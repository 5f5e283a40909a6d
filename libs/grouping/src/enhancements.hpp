// Stack-trace rules ("grouping enhancements"): the parser for Sentry's rule language, the built-in
// base `all-platforms@2023-01-11`, and the two phases ophio runs: classifiers (in_app and category
// on the frames, before grouping) and contributions (+group/-group, max-frames, min-frames per
// grouping variant).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event_data.hpp"
#include "glob.hpp"
#include "rookery/grouping/sentry_grouping.hpp"

namespace rookery::grouping::detail {

// Family bits as ophio encodes them.
inline constexpr std::uint8_t kFamilyOther = 1;
inline constexpr std::uint8_t kFamilyNative = 2;
inline constexpr std::uint8_t kFamilyJavascript = 4;
inline constexpr std::uint8_t kFamilyAll = 0xFF;

/// The frame as the rules see it. All rule globs ignore case, so the string fields are stored
/// case-folded (ASCII lowercase), and the path-like ones with '\' turned into '/'.
struct MatchFrame {
  std::uint8_t family = kFamilyOther;
  std::string_view function = "<unknown>";
  OptStr module;
  OptStr package;
  OptStr path;  // abs_path, else filename
  OptStr filename;
  OptStr category;  // as set by rules (not folded)
  std::optional<bool> in_app;
};

struct MatchException {
  OptStr type;
  OptStr mechanism;
  // Read (through the event) only by a rule that matches on it: it differs between events.
  const EventData* event = nullptr;
  const Watched<OptStr>* value = nullptr;
};

struct CompiledStacktraceMatcher {
  enum class Field : std::uint8_t {
    kFunction,
    kModule,
    kCategory,
    kPath,
    kPackage,
    kFilename,
    kFamily,
    kApp,
    kType,
    kValue,
    kMechanism
  };
  Field field = Field::kFunction;
  bool negated = false;
  FrameOffset offset = FrameOffset::kSelf;
  std::optional<Glob> glob;
  std::uint8_t families = 0;
  bool app = false;
  bool app_never_matches = false;
};

struct CompiledStacktraceRule {
  std::vector<StacktraceMatcher> matchers;
  std::vector<StacktraceAction> actions;
  std::string text;
  std::vector<CompiledStacktraceMatcher> frame_matchers;  // cheapest checks first
  std::vector<CompiledStacktraceMatcher> exception_matchers;
  bool has_classifier_actions = false;    // +app/-app, category=
  bool has_contributes_actions = false;   // +group/-group, max-frames, min-frames
  std::uint8_t family_mask = kFamilyAll;  // a frame outside these families cannot match
};

/// The built-in rules, compiled once.
const std::vector<StacktraceRule>& BaseStacktraceRules();

/// The rules that apply to one event: base rules first, then the project's.
class GateIndex;

/// The rules that apply to one event: the built-in base first, then the project's.
class RuleSet {
 public:
  /// The base rules are split and indexed once; only the project's are split per call.
  explicit RuleSet(const std::vector<StacktraceRule>& project);

  struct Split {
    std::vector<const CompiledStacktraceRule*> classifiers;
    std::vector<const CompiledStacktraceRule*> contributes;
  };
  struct Base {
    const GateIndex* classifiers;
    const GateIndex* contributes;
  };

  const Base& BaseRules() const { return *base_; }
  const Split& ProjectRules() const { return project_; }

 private:
  const Base* base_;
  Split project_;
};

bool RuleMatchesException(const CompiledStacktraceRule& rule, const MatchException& exception);
bool RuleMatchesFrame(const CompiledStacktraceRule& rule, const std::vector<MatchFrame>& frames, std::size_t index);

/// Phase 1: sets in_app and category on the frames (rules in order, each rule first finds all its
/// frames, then applies).
void ApplyClassifiers(const RuleSet& rules, std::vector<MatchFrame>& frames, const MatchException& exception);

/// Phase 2, part one: which frames each contributes rule matches (independent of the variant).
struct ContributesMatches {
  std::vector<std::pair<const CompiledStacktraceRule*, std::vector<std::uint32_t>>> rules;
};
ContributesMatches MatchContributes(const RuleSet& rules, const std::vector<MatchFrame>& frames,
                                    const MatchException& exception);

/// Phase 2, part two: applies the matches to one variant's frame contributions and returns whether
/// the stack trace as a whole contributes. `hints` receives the rule text per changed frame.
bool AssembleContributes(const ContributesMatches& matches, std::vector<bool>& contributes,
                         std::vector<const std::string*>* hints);

/// The grammar parser, shared by ParseStacktraceRules and the base rules.
Expected<std::vector<StacktraceRule>, std::string> ParseStacktraceRuleText(std::string_view text,
                                                                           bool allow_filename_matcher);

}  // namespace rookery::grouping::detail
