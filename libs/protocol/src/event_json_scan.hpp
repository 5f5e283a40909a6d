// The relay's check of an event's JSON, on the request path of every event: is it one well-formed
// JSON object, and what is its top-level "event_id"? A single pass that never copies or unescapes
// a string. It accepts and rejects exactly what RapidJSON's reader does with the flags the worker
// parses with (NaN/Infinity allowed, no UTF-8 validation), so an event the relay takes is an event
// the worker can read. The one shape it does not decide — an escape sequence inside a top-level
// key or inside the event_id value, where the unescaped text matters — it hands back as kUndecided
// for the reader to settle.
#pragma once

#include <string>
#include <string_view>

namespace rookery::protocol::internal {

struct EventJsonScan {
  enum class Verdict {
    kObject,     // valid JSON, and an object
    kNotObject,  // valid JSON, but not an object
    kInvalid,    // not JSON
    kTooDeep,    // nested deeper than kMaxJsonDepth before any error
    kUndecided,  // valid so far, but escapes in a top-level key or the event_id: ask the reader
  };
  Verdict verdict = Verdict::kInvalid;
  // As the reader-based check records them; meaningful for kObject only. Later duplicates of the
  // key overwrite the value, and "null"/"not a string" stick once seen.
  bool has_event_id_key = false;
  bool event_id_null = false;
  bool event_id_is_string = true;
  std::string_view event_id;  // raw text between the quotes (has no escapes)
};

EventJsonScan ScanEventJson(std::string_view json);

/// The same check through RapidJSON's reader: slower, but decides every input (never
/// kUndecided). `event_id` then points into `event_id_storage`, unescaped.
EventJsonScan ReadEventJson(std::string_view json, std::string& event_id_storage);

}  // namespace rookery::protocol::internal
