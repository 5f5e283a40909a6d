// Server-side fingerprinting rules (project rules and Sentry's built-in `javascript@2024-02-02`
// set) and the fingerprint variables (`{{ type }}`, `{{ tags.x }}`, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event_data.hpp"
#include "glob.hpp"
#include "rookery/grouping/sentry_grouping.hpp"

namespace rookery::grouping::detail {

struct CompiledFingerprintMatcher {
  enum class Group : std::uint8_t {
    kToplevel,
    kLogInfo,
    kExceptions,
    kTags,
    kSdk,
    kFamily,
    kRelease,
    kThreads,
    kFrames
  };
  std::string key;
  Group group = Group::kFrames;
  bool negated = false;
  FrameOffset offset = FrameOffset::kSelf;
  bool path_like = false;
  std::optional<Glob> glob;        // absent when the pattern is not a valid glob: it never matches
  std::vector<std::string> flags;  // family, sdk
  std::optional<bool> bool_value;  // app, thread_crashed, thread_current
};

struct CompiledFingerprintRule {
  std::vector<FingerprintMatcher> matchers;
  std::vector<std::string> fingerprint;
  std::optional<std::string> title;
  bool is_builtin = false;
  std::string text;
  std::vector<CompiledFingerprintMatcher> compiled;
  bool has_sibling_matchers = false;
};

/// The built-in rules that apply after the project's.
const std::vector<FingerprintRule>& BuiltinFingerprintRules();

struct FingerprintMatch {
  const CompiledFingerprintRule* rule = nullptr;
};

/// The first rule (project rules, then built-in ones) matching the event.
std::optional<FingerprintMatch> MatchFingerprintRules(const std::vector<FingerprintRule>& project_rules,
                                                      const EventData& event);

/// Sentry's `resolve_fingerprint_variable` for the 2023 config: nullopt for unknown variables,
/// which then stay literal.
std::optional<std::string> ResolveFingerprintVariable(std::string_view name, const EventData& event);

/// Resolves every `{{ var }}` entry; `{{ default }}` entries become the canonical "{{ default }}".
std::vector<std::string> ResolveFingerprint(const std::vector<std::string_view>& fingerprint, const EventData& event);

/// Replaces `{{ var }}` occurrences inside a title.
std::string ExpandTitleTemplate(std::string_view title, const EventData& event);

}  // namespace rookery::grouping::detail
