// Shared by the normalization passes; not part of the library's interface.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rapidjson/document.h>

#include "rookery/normalize/event.hpp"

namespace rookery::normalize::detail {

using Value = rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

/// Sentry's MaxChars: a string longer than limit + allowance is cut to limit - 3 characters plus
/// "..." (characters are Unicode scalar values).
struct CharLimit {
  std::size_t limit;
  std::size_t allowance;
};
inline constexpr CharLimit kEnumlikeChars{128, 0};
inline constexpr CharLimit kSummaryChars{1024, 100};
inline constexpr CharLimit kMessageChars{8192, 200};
inline constexpr CharLimit kSymbolChars{256, 20};
inline constexpr CharLimit kPathChars{256, 40};
inline constexpr CharLimit kLoggerChars{64, 0};
inline constexpr CharLimit kEmailChars{75, 0};
inline constexpr CharLimit kCulpritChars{200, 0};
inline constexpr CharLimit kDistChars{64, 0};
inline constexpr std::size_t kMaxTagKeyChars = 200;
inline constexpr std::size_t kMaxTagValueChars = 200;
inline constexpr std::size_t kMaxEnvironmentChars = 64;
inline constexpr std::size_t kMaxReleaseChars = 200;

/// Sentry's BagSize: free-form data is cut at a nesting depth and a JSON size.
struct BagSize {
  std::size_t max_depth;
  std::size_t max_bytes;
};
inline constexpr BagSize kSmallBag{3, 1024};
inline constexpr BagSize kMediumBag{5, 2048};
inline constexpr BagSize kLargeBag{7, 8192};
inline constexpr BagSize kMassiveBag{7, 262144};

inline constexpr std::string_view kFiltered = "[Filtered]";

/// One `_meta` remark: ["rule", "s", start, end] (substituted) or ["rule", "x"] (removed).
struct Remark {
  std::string rule_id;
  char type = 's';
  std::size_t start = 0;
  std::size_t end = 0;
  bool has_range = true;
};

/// A step from the event's root; views point into the document's member names.
struct PathSegment {
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;
};
using Path = std::vector<PathSegment>;

/// Collects annotations during the passes and writes them once into the `_meta` tree, which mirrors
/// the event's structure: {"_meta": {"request": {"url": {"": {"rem": [...], "len": 300}}}}}.
class MetaCollector {
 public:
  explicit MetaCollector(Allocator& allocator) : allocator_(allocator) {}

  void AddRemark(const Path& path, Remark remark);
  /// Keeps the first length given: the one before any change.
  void SetOriginalLength(const Path& path, std::size_t length);
  /// `original` (may be null) is copied as the entry's "val".
  void AddError(const Path& path, std::string_view kind, const Value* original);
  [[nodiscard]] bool Empty() const { return entries_.empty(); }
  void WriteInto(rapidjson::Document& document);

 private:
  struct Entry {
    std::vector<std::string> path;
    std::vector<Remark> remarks;
    std::optional<std::size_t> length;
    std::vector<std::string> errors;
    Value original;
    bool has_original = false;
  };
  Entry& At(const Path& path);

  Allocator& allocator_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
};

/// Sentry's default data scrubber (password-like keys, credit cards, passwords in URLs) and its
/// IP address scrubbing, on text and keys.
class Scrubber {
 public:
  explicit Scrubber(const ScrubbingConfig& config);

  [[nodiscard]] bool Enabled() const { return enabled_; }
  [[nodiscard]] bool ScrubsIps() const { return scrub_ips_; }
  [[nodiscard]] bool Active() const { return enabled_ || scrub_ips_; }
  /// The rule that filters the whole value stored under `key`, or nullptr.
  [[nodiscard]] const char* KeyRule(std::string_view key) const;
  /// Credit card numbers, URL passwords and (when asked) IPv4 addresses inside free text. Returns
  /// true when `out` holds the changed text; remark ranges count characters of `out`.
  bool ScrubText(std::string_view text, std::string& out, std::vector<Remark>& remarks) const;
  /// `a=1&password=x` keeps its shape with sensitive values filtered and the rest scrubbed as text.
  bool ScrubQuery(std::string_view text, std::string& out, std::vector<Remark>& remarks) const;
  /// A URL: its text scrubbed and its query string as ScrubQuery does.
  bool ScrubUrl(std::string_view text, std::string& out, std::vector<Remark>& remarks) const;
  /// Whether an integer's digits make a credit card number.
  [[nodiscard]] bool IsCardNumber(std::string_view digits) const;

 private:
  struct Builder;
  void ScrubTextInto(std::string_view text, Builder& builder, std::vector<Remark>& remarks) const;
  void ScrubQueryInto(std::string_view text, Builder& builder, std::vector<Remark>& remarks) const;

  bool enabled_;
  bool scrub_ips_;
  std::vector<std::string> extra_fields_;  // lower-cased
  std::vector<std::string> safe_fields_;   // lower-cased
};

std::size_t CountChars(std::string_view text);

/// The frames of a stack trace object, oldest first (empty frames are skipped, as Relay drops them).
std::vector<Frame> ReadFrames(const Value* stacktrace);
/// The event's exceptions in any of their shapes, a lone top-level stack trace moved into the only one.
std::vector<Exception> ReadExceptions(const Value& doc);
/// Sets the event's title, culprit and metadata as Sentry derives them (summary.cpp); reads the
/// document and the event's exceptions, message and platform.
void Summarize(const Value& doc, Event& event);
/// Dotted IPv4 or RFC 4291 IPv6 text (with an optional embedded IPv4 tail).
bool IsIpAddress(std::string_view text);
/// Rewrites values jsonb cannot hold, in place.
void MakeStorable(Value& value, Allocator& allocator);

/// Cuts `value` (a string) to `limit` and records it in `meta` (unless null); returns whether it was cut.
bool TrimString(Value& value, CharLimit limit, const Path& path, MetaCollector* meta, Allocator& allocator);

/// The one walk over the event's interfaces: scrubbing, then Sentry's size limits (string lengths,
/// databags, frames, breadcrumbs).
void ScrubAndTrim(rapidjson::Document& document, const Scrubber& scrubber, MetaCollector& meta);

/// Walks JSON-like text from `from`, skipping double-quoted strings (and the escapes in them),
/// and calls `on_bracket(opens)` at each `{`, `[` (opens) and `}`, `]`. Returns the index of the
/// bracket at which `on_bracket` returned true, or the text's size.
template <typename OnBracket>
std::size_t ScanBrackets(std::string_view text, std::size_t from, OnBracket on_bracket) {
  bool in_string = false;
  for (std::size_t i = from; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if ((c == '{' || c == '[' || c == '}' || c == ']') && on_bracket(c == '{' || c == '[')) {
      return i;
    }
  }
  return text.size();
}

/// The originals `_meta` keeps of values normalization removed ("val"): they never went through
/// the event's scrubbing, so they are scrubbed as strictly as a dead letter (scrub.hpp), and one
/// under a key the scrubber filters becomes "[Filtered]" whole. Nothing when the project turned
/// scrubbing off.
constexpr std::size_t kMaxMetaDepth = 64;
void ScrubMetaOriginals(Value& meta, const ScrubbingConfig& config, Allocator& allocator);

}  // namespace rookery::normalize::detail
