// rookery::normalize — the worker's view of one error event, derived from the SDK's JSON.
//
// Sentry's shapes are accepted (message as string or object, exception as values/list/single,
// legacy `sentry.interfaces.*` names, tags as object or pairs). The document is rewritten in place
// the way Relay stores it (sentry-protocol.md §7): clock drift corrected, invalid values removed,
// over-long values trimmed, secrets scrubbed; every change is recorded in `_meta` or `errors`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "rookery/core/expected.hpp"

namespace rookery::normalize {

struct Frame {
  std::string filename;
  std::string abs_path;
  std::string module;
  std::string function;
  std::string platform;  // set when the frame's platform differs from the event's
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

/// The event's user after `{{auto}}` resolution and scrubbing; empty fields were not sent.
struct User {
  std::string id;
  std::string email;
  std::string username;
  std::string ip_address;
  std::string name;
};

/// The metadata as Sentry keeps it (its event types' extract_metadata): an error's raised
/// exception's value, its type (not for a synthetic one) and the crash frame's filename and
/// function when known; any other event's title. A fingerprint rule's title is added to either.
struct Metadata {
  std::optional<std::string> type;
  std::optional<std::string> value;
  std::optional<std::string> filename;
  std::optional<std::string> function;
  std::optional<std::string> title;
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
  Metadata metadata;
  std::string environment;
  std::string release;
  std::string dist;
  std::string logger;
  std::string server_name;
  std::string transaction;  // as sent (and trimmed); the culprit falls back on it
  User user;
  /// Tags as Sentry shows them: the SDK's (validated, first of duplicates wins), then the ones
  /// derived from the event (level, environment, release, logger, server_name, transaction, url,
  /// user, handled, mechanism, os, browser, runtime, device), which replace SDK tags of the same key.
  std::vector<std::pair<std::string, std::string>> tags;
  /// The normalized event, serialized so PostgreSQL's jsonb accepts it: NaN and ±Infinity become
  /// null, NUL characters are removed and invalid UTF-8 becomes U+FFFD; trimmed and scrubbed.
  std::string storable_json;
};

/// The metadata as the JSON object Sentry stores, e.g. {"value":"division by zero",
/// "type":"ZeroDivisionError","filename":"app.py","function":"divide"}.
std::string MetadataJson(const Metadata& metadata);

/// Sentry's server-side data scrubber settings of one project.
struct ScrubbingConfig {
  bool enabled = true;                    // the default scrubber: password-like keys, credit cards, URL passwords
  bool scrub_ip_addresses = false;        // remove user.ip_address / REMOTE_ADDR, replace IPs in text by "[ip]"
  std::vector<std::string> extra_fields;  // more keys to filter (case-insensitive substrings)
  std::vector<std::string> safe_fields;   // keys never filtered (case-insensitive, whole key)
};

struct Context {
  std::int64_t received_at_ms = 0;  // fallback timestamp
  std::int64_t sent_at_ms = 0;      // the envelope header's sent_at; 0 = unknown (store requests)
  std::string client_ip;            // the sender's address as the relay saw it; resolves `{{auto}}`
  ScrubbingConfig scrubbing;
};

/// Fails only when the document is not a JSON object; bad fields are dropped, not fatal.
Expected<Event, std::string> NormalizeEvent(std::string_view json, const Context& context);
/// The same on an already parsed document (parsed with kParseNanAndInfFlag), which it rewrites in
/// place into its storable form: callers that also group the event parse it only once.
Expected<Event, std::string> NormalizeEvent(rapidjson::Document& document, const Context& context);

}  // namespace rookery::normalize
