// rookery::normalize — the worker's view of one error event, derived from the SDK's JSON.
//
// Interim scope (walking skeleton): the fields the issue list and the interim grouping need, with
// Sentry's shapes accepted (message as string or object, exception as values/list/single, legacy
// `sentry.interfaces.*` names). Trimming, scrubbing and the full schema come with the worker issue.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "rookery/core/expected.hpp"

namespace rookery::normalize {

struct Frame {
  std::string filename;
  std::string module;
  std::string function;
  std::int64_t lineno = 0;
  bool in_app = false;
  bool has_in_app = false;
};

struct Exception {
  std::string type;
  std::string value;
  std::string module;
  // Made up by the SDK (e.g. a stack trace attached to a plain message): its type says nothing.
  bool synthetic = false;
  std::vector<Frame> frames;  // oldest first, as SDKs send them
};

struct Event {
  std::string platform;    // "python", ... ("other" when unknown)
  std::string level;       // fatal|error|warning|info|debug
  std::string event_type;  // "error" when it has an exception, else "default"; "transaction" is skipped
  std::int64_t timestamp_ms = 0;
  std::string message;                // formatted log message, if any
  std::vector<Exception> exceptions;  // oldest first; the last one was raised
  std::string title;
  std::string culprit;
  std::string environment;
  std::string release;
  std::string logger;
  std::string transaction;
  /// The event as the SDK sent it, re-serialized so PostgreSQL's jsonb accepts it: NaN and
  /// ±Infinity become null and NUL characters are removed from strings.
  std::string storable_json;
};

struct Context {
  std::int64_t received_at_ms = 0;  // fallback timestamp
};

/// Fails only when the document is not a JSON object; bad fields are dropped, not fatal.
Expected<Event, std::string> NormalizeEvent(std::string_view json, const Context& context);
/// The same on an already parsed document (parsed with kParseNanAndInfFlag), which it rewrites in
/// place into its storable form: callers that also group the event parse it only once.
Expected<Event, std::string> NormalizeEvent(rapidjson::Document& document, const Context& context);

}  // namespace rookery::normalize
