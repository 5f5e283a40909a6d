// The parts of an event grouping reads, after the normalization Relay and Sentry apply before
// grouping. Strings are views into the caller's JSON document or into the event's own arena.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

namespace rookery::grouping::detail {

using OptStr = std::optional<std::string_view>;

struct EventData;

/// A field that differs between the events of one issue (an exception's value, the tags, the
/// logger, ...) and decides the grouping only through rules that name it or when nothing else
/// contributes. The grouping memo leaves such fields out of its key, so grouping reads them only
/// through EventData::Read, which records that the result now depends on them too.
template <class T>
class Watched {
 public:
  Watched() = default;
  explicit Watched(T value) : value_(std::move(value)) {}
  /// For ParseEvent, which fills the field before grouping starts; grouping must never call it
  /// (the memo computes both keys before grouping runs, but a changed field would make the
  /// remembered result wrong for the next event).
  T& Parsing() { return value_; }

 private:
  friend struct EventData;
  T value_{};
};

struct FrameData {
  OptStr function;
  OptStr raw_function;
  OptStr module;
  OptStr filename;
  OptStr abs_path;
  OptStr package;
  OptStr platform;
  OptStr context_line;
  std::optional<std::uint64_t> lineno;
  std::optional<std::uint64_t> colno;
  std::optional<bool> in_app;
  OptStr category;  // data.category, then whatever the stack-trace rules set
  bool sourcemap = false;
};

struct StacktraceData {
  std::vector<FrameData> frames;
};

struct MechanismData {
  OptStr type;
  OptStr source;
  bool synthetic = false;
  bool is_exception_group = false;
  std::optional<std::int64_t> exception_id;
  std::optional<std::int64_t> parent_id;
  bool has_ns_error = false;
  // As Python's force_bytes renders them: a missing value is "None".
  std::string_view ns_error_domain = "None";
  std::string_view ns_error_code = "None";
};

struct ExceptionData {
  OptStr type;
  Watched<OptStr> value;
  OptStr module;
  std::optional<MechanismData> mechanism;
  std::optional<StacktraceData> stacktrace;
};

struct ThreadData {
  std::optional<StacktraceData> stacktrace;
  bool crashed = false;
  bool current = false;
  OptStr id;
  OptStr name;
  OptStr state;
};

struct EventData {
  std::string_view platform = "other";
  std::vector<ExceptionData> exceptions;
  std::optional<StacktraceData> stacktrace;
  std::optional<std::vector<ThreadData>> threads;
  bool has_logentry = false;
  OptStr logentry_message;  // the template: the same for every event of one log call
  Watched<OptStr> logentry_formatted;
  bool has_template = false;
  OptStr template_filename;
  OptStr template_context_line;
  std::optional<std::vector<std::string_view>> fingerprint;
  OptStr checksum;
  Watched<OptStr> transaction;
  Watched<OptStr> logger;
  Watched<std::string_view> level{"error"};
  Watched<OptStr> release;
  OptStr sdk_name;
  OptStr sdk_version;
  Watched<std::vector<std::pair<std::string_view, std::string_view>>> tags;

  /// Keeps computed strings alive for the views above.
  std::string_view Store(std::string value) { return arena_.emplace_back(std::move(value)); }

  /// A watched field's value; from now on the grouping result depends on the watched fields.
  template <class T>
  const T& Read(const Watched<T>& field) const {
    read_watched_ = true;
    return field.value_;
  }
  /// Whether a watched text is absent or empty, which the memo's key does cover.
  static bool IsEmpty(const Watched<OptStr>& field) { return !field.value_ || field.value_->empty(); }
  bool ReadWatched() const { return read_watched_; }

  /// The memo's key: every field except the watched ones' contents (their emptiness is in it).
  /// A second key adds the watched contents, for results that read them.
  void HashStable(std::uint64_t seed, std::uint64_t out[2]) const;
  void HashWatched(const std::uint64_t stable[2], std::uint64_t out[2]) const;

 private:
  std::deque<std::string> arena_;
  mutable bool read_watched_ = false;
};

/// Reads the event JSON and applies the store normalization grouping depends on (see the .cpp).
EventData ParseEvent(const rapidjson::Value& event);

/// Whether `path` starts with a URL scheme the way Sentry's `has_url_origin` checks it.
bool HasUrlOrigin(OptStr path, bool files_count_as_urls);

}  // namespace rookery::grouping::detail
