// rookery::grouping — Sentry's grouping config `newstyle:2023-01-11`, reproduced so that events
// land in the same issues (with the same hashes) as they would in Sentry.
//
// ComputeSentryGrouping takes the event JSON as the SDK sent it and applies, inside, the parts of
// Relay's and Sentry's normalization that grouping depends on (exception and message shapes,
// legacy interface names, frame path fix-ups, function-name trimming, field length limits), then
// the built-in stack-trace rules (`all-platforms@2023-01-11`), the project's rules, server-side
// fingerprinting (project rules, then the built-in `javascript@2024-02-02` set) and the variant
// logic. Pure: no I/O, no globals beyond immutable compiled rule tables.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "rookery/core/expected.hpp"

namespace rookery::grouping {

inline constexpr const char* kSentryConfig2023 = "newstyle:2023-01-11";

namespace detail {
struct CompiledFingerprintRule;
struct CompiledStacktraceRule;
}  // namespace detail

/// Which frame a frame matcher inspects: the frame itself, or a neighbour written as
/// `[ matcher ] |` (caller) and `| [ matcher ]` (callee).
enum class FrameOffset { kSelf, kCaller, kCallee };

/// One `key:pattern` of a server-side fingerprinting rule. `key` is the canonical name Sentry
/// stores: type, value, message, logger, level, module, path, package, function, family, app,
/// sdk, release, tags.<name>, thread_id, thread_name, thread_state, thread_crashed, thread_current.
struct FingerprintMatcher {
  std::string key;
  std::string pattern;
  bool negated = false;
  FrameOffset offset = FrameOffset::kSelf;
};

/// `matchers -> fingerprint [title="..."]`: the first project rule whose matchers all match replaces
/// the event's fingerprint (and title).
class FingerprintRule {
 public:
  /// Validates the keys (aliases such as `error.type` are accepted and canonicalized).
  static Expected<FingerprintRule, std::string> Create(std::vector<FingerprintMatcher> matchers,
                                                       std::vector<std::string> fingerprint,
                                                       std::optional<std::string> title = std::nullopt);

  const std::vector<FingerprintMatcher>& Matchers() const;
  const std::vector<std::string>& Fingerprint() const;
  const std::optional<std::string>& Title() const;
  /// The rule in Sentry's text syntax, e.g. `type:"ValueError" -> "my-group"`.
  std::string Text() const;

  // Rules are immutable once created; copies share the compiled matchers.
  std::shared_ptr<const detail::CompiledFingerprintRule> Compiled() const { return compiled_; }

 private:
  friend class FingerprintRuleBuilder;
  std::shared_ptr<const detail::CompiledFingerprintRule> compiled_;
};

/// One matcher of a stack-trace rule. `key` is canonical: function, module, path, package,
/// filename, family, app, category, type, value, mechanism.
struct StacktraceMatcher {
  std::string key;
  std::string pattern;
  bool negated = false;
  FrameOffset offset = FrameOffset::kSelf;
};

/// `+app`/`-app`, `+group`/`-group` (optionally `^` for the frames towards the crash, `v` for the
/// frames towards the thread's start), `max-frames=N`, `min-frames=N`, `category=NAME`.
struct StacktraceAction {
  enum class Kind { kApp, kGroup, kMaxFrames, kMinFrames, kCategory };
  enum class Range { kSelf, kUp, kDown };
  Kind kind = Kind::kGroup;
  bool flag = false;
  Range range = Range::kSelf;
  int value = 0;
  std::string category;
};

/// A stack-trace rule ("grouping enhancement"): when all matchers match a frame, the actions apply.
class StacktraceRule {
 public:
  /// Validates keys and compiles the glob patterns.
  static Expected<StacktraceRule, std::string> Create(std::vector<StacktraceMatcher> matchers,
                                                      std::vector<StacktraceAction> actions);

  const std::vector<StacktraceMatcher>& Matchers() const;
  const std::vector<StacktraceAction>& Actions() const;
  /// The rule in Sentry's text syntax, as used in hints.
  std::string Text() const;

  std::shared_ptr<const detail::CompiledStacktraceRule> Compiled() const { return compiled_; }

 private:
  std::shared_ptr<const detail::CompiledStacktraceRule> compiled_;
};

/// Per-project configuration, parsed once when the project's settings change.
struct ProjectRules {
  std::vector<FingerprintRule> fingerprinting;
  std::vector<StacktraceRule> enhancements;
};

/// Parses Sentry's fingerprinting rule language (one rule per line, `#` comments), e.g.
/// `error.type:"ConnectionError" message:"*timeout*" -> connection-timeout, {{ transaction }}`.
Expected<std::vector<FingerprintRule>, std::string> ParseFingerprintRules(std::string_view text);

/// Parses the JSON form Sentry stores: `[{"matchers": [["type", "Foo"], ["!module", "x"]],
/// "fingerprint": ["a"], "attributes": {"title": "..."}}]`.
Expected<std::vector<FingerprintRule>, std::string> FingerprintRulesFromJson(const rapidjson::Value& rules);

/// Parses Sentry's stack-trace rule language, e.g. `path:**/vendor/** -app` or
/// `family:native function:std::* -group`.
Expected<std::vector<StacktraceRule>, std::string> ParseStacktraceRules(std::string_view text);

struct Variant {
  /// "app", "system", "default", "custom_fingerprint", "built_in_fingerprint", "checksum",
  /// "hashed_checksum" or "fallback".
  std::string name;
  /// Absent when the variant does not contribute.
  std::optional<std::string> hash;
  /// What the hash covers, e.g. "in-app exception stack-trace" or "custom fingerprint".
  std::string description;
  /// Why the variant does not contribute, e.g. "exception of system takes precedence".
  std::string hint;
  /// With SentryGroupingOptions::collect_details: the hashed values, in order.
  std::vector<std::string> values;
  /// With SentryGroupingOptions::collect_details: the component tree in Sentry's snapshot layout
  /// (`*` marks contributing components).
  std::string tree;
};

struct SentryGroupingResult {
  std::string config;
  /// Every contributing variant's hash, `system` last; the group is the first one already known.
  std::vector<std::string> hashes;
  std::vector<Variant> variants;
  /// Title set by a matching fingerprinting rule's `title="..."`, with variables expanded.
  std::optional<std::string> title;
  /// Text of the fingerprinting rule that replaced the fingerprint, if any.
  std::optional<std::string> matched_rule;
};

struct SentryGroupingOptions {
  /// Fill Variant::values and Variant::tree (costs allocations; for debugging and the API).
  bool collect_details = false;
};

SentryGroupingResult ComputeSentryGrouping(const rapidjson::Value& event, const ProjectRules& rules,
                                           const SentryGroupingOptions& options = {});

/// ComputeSentryGrouping for a stream of events, remembering results: most events repeat an
/// issue's stack, and grouping one (its stack-trace rules above all) costs more than reading it.
/// The key is a 128-bit hash of everything grouping reads, except the fields that differ between
/// the events of one issue (exception values, tags, logger, ...); a result that did read one of
/// those is remembered under a second key that covers them too. So a result comes back from the
/// memo only for an event it would be computed identically for. Not thread-safe: one per thread.
class GroupingMemo {
 public:
  /// Holds at most `capacity` results (about 0.5 KB each) and starts over when full.
  explicit GroupingMemo(std::size_t capacity = 4096);
  ~GroupingMemo();
  GroupingMemo(const GroupingMemo&) = delete;
  GroupingMemo& operator=(const GroupingMemo&) = delete;

  /// As ComputeSentryGrouping without details; the result lives until the next call. `rules_id`
  /// names `rules`: it must differ for any two rule sets used with one memo (e.g. a counter bumped
  /// whenever a project's rules change).
  const SentryGroupingResult& Compute(const rapidjson::Value& event, const ProjectRules& rules, std::uint64_t rules_id);

  std::uint64_t Hits() const { return hits_; }
  std::uint64_t Misses() const { return misses_; }
  std::size_t Size() const;

 private:
  struct Entries;
  std::unique_ptr<Entries> entries_;
  std::size_t capacity_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace rookery::grouping
