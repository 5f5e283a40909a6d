// The grouping memo's keys (GroupingMemo in sentry_grouping.cpp): 128-bit XXH3 over every field
// of EventData, each framed by its presence and length so that no two different events feed the
// hash the same bytes. The first key leaves out the watched fields' contents; the second adds them.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <array>
#include <cstring>
#include <random>

#include "event_data.hpp"

namespace rookery::grouping::detail {
namespace {

// A new field must be added to the keys below (or be watched): a field left out would let two
// events that differ in it share one memoized result. These sizes make the compiler say so.
static_assert(sizeof(FrameData) == 264, "FrameData changed: update HashFrame");
static_assert(sizeof(MechanismData) == 128, "MechanismData changed: update HashStable");
static_assert(sizeof(ExceptionData) == 240, "ExceptionData changed: update HashStable and HashWatched");
static_assert(sizeof(ThreadData) == 112, "ThreadData changed: update HashStable");
static_assert(sizeof(EventData) == 520, "EventData changed: update HashStable and HashWatched");

// Event contents come from anyone holding a DSN, and XXH3's default secret is public: with a
// random secret per process nobody can make two events collide on purpose.
const std::array<unsigned char, XXH3_SECRET_SIZE_MIN * 2>& ProcessSecret() {
  static const auto secret = [] {
    std::array<unsigned char, XXH3_SECRET_SIZE_MIN * 2> bytes{};
    std::random_device random;
    for (auto& byte : bytes) byte = static_cast<unsigned char>(random());
    return bytes;
  }();
  return secret;
}

class KeyHasher {
 public:
  KeyHasher() { XXH3_128bits_reset_withSecret(&state_, ProcessSecret().data(), ProcessSecret().size()); }

  void Bytes(const void* data, std::size_t size) { XXH3_128bits_update(&state_, data, size); }
  template <class T>
  void Pod(T value) {
    Bytes(&value, sizeof(value));
  }
  void Text(std::string_view text) {
    Pod<std::uint64_t>(text.size());
    Bytes(text.data(), text.size());
  }
  void Opt(const OptStr& text) {
    Pod<std::uint8_t>(text ? 1 : 0);
    if (text) Text(*text);
  }
  template <class T>
  void OptPod(const std::optional<T>& value) {
    Pod<std::uint8_t>(value ? 1 : 0);
    if (value) Pod(*value);
  }
  void Frame(const FrameData& frame) {
    for (const OptStr* text : {&frame.function, &frame.raw_function, &frame.module, &frame.filename, &frame.abs_path,
                               &frame.package, &frame.platform, &frame.context_line, &frame.category}) {
      Opt(*text);
    }
    OptPod(frame.lineno);
    OptPod(frame.colno);
    OptPod(frame.in_app);
    Pod(frame.sourcemap);
  }
  void Stacktrace(const std::optional<StacktraceData>& stacktrace) {
    Pod<std::uint8_t>(stacktrace ? 1 : 0);
    if (!stacktrace) return;
    Pod<std::uint64_t>(stacktrace->frames.size());
    for (const FrameData& frame : stacktrace->frames) Frame(frame);
  }
  void Finish(std::uint64_t out[2]) {
    const XXH128_hash_t hash = XXH3_128bits_digest(&state_);
    out[0] = hash.low64;
    out[1] = hash.high64;
  }

 private:
  XXH3_state_t state_;
};

}  // namespace

void EventData::HashStable(std::uint64_t seed, std::uint64_t out[2]) const {
  KeyHasher h;
  h.Pod(seed);
  h.Text(platform);
  h.Pod<std::uint64_t>(exceptions.size());
  for (const ExceptionData& exception : exceptions) {
    h.Opt(exception.type);
    h.Pod(IsEmpty(exception.value));
    h.Opt(exception.module);
    h.Pod<std::uint8_t>(exception.mechanism ? 1 : 0);
    if (const auto& m = exception.mechanism) {
      h.Opt(m->type);
      h.Opt(m->source);
      h.Pod(m->synthetic);
      h.Pod(m->is_exception_group);
      h.OptPod(m->exception_id);
      h.OptPod(m->parent_id);
      h.Pod(m->has_ns_error);
      h.Text(m->ns_error_domain);
      h.Text(m->ns_error_code);
    }
    h.Stacktrace(exception.stacktrace);
  }
  h.Stacktrace(stacktrace);
  h.Pod<std::uint8_t>(threads ? 1 : 0);
  if (threads) {
    h.Pod<std::uint64_t>(threads->size());
    for (const ThreadData& thread : *threads) {
      h.Stacktrace(thread.stacktrace);
      h.Pod(thread.crashed);
      h.Pod(thread.current);
      h.Opt(thread.id);
      h.Opt(thread.name);
      h.Opt(thread.state);
    }
  }
  h.Pod(has_logentry);
  h.Opt(logentry_message);
  h.Pod(IsEmpty(logentry_formatted));
  h.Pod(has_template);
  h.Opt(template_filename);
  h.Opt(template_context_line);
  h.Pod<std::uint8_t>(fingerprint ? 1 : 0);
  if (fingerprint) {
    h.Pod<std::uint64_t>(fingerprint->size());
    for (const std::string_view part : *fingerprint) h.Text(part);
  }
  h.Opt(checksum);
  h.Opt(sdk_name);
  h.Opt(sdk_version);
  // Emptiness, which IsEmpty tells without marking a read.
  for (const Watched<OptStr>* text : {&transaction, &logger, &release}) h.Pod(IsEmpty(*text));
  h.Finish(out);
}

void EventData::HashWatched(const std::uint64_t stable[2], std::uint64_t out[2]) const {
  KeyHasher h;
  h.Pod(stable[0]);
  h.Pod(stable[1]);
  for (const ExceptionData& exception : exceptions) h.Opt(exception.value.value_);
  h.Opt(logentry_formatted.value_);
  h.Opt(transaction.value_);
  h.Opt(logger.value_);
  h.Text(level.value_);
  h.Opt(release.value_);
  h.Pod<std::uint64_t>(tags.value_.size());
  for (const auto& [key, value] : tags.value_) {
    h.Text(key);
    h.Text(value);
  }
  h.Finish(out);
}

}  // namespace rookery::grouping::detail
