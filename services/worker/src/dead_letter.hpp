// What the worker keeps of a message it cannot process (a dead letter): enough to diagnose it,
// never the secrets the normal path would have scrubbed. See docs/architecture.md, "Dead letters".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "event_processor.hpp"

namespace rookery::worker {

/// The most of a payload kept when it can only be redacted as text (not JSON, or no contract this
/// build can read far enough to find the event JSON).
inline constexpr std::size_t kMaxRedactedPayloadBytes = 64 * 1024;

struct DeadLetterPayload {
  std::string payload;      // dead_letters.payload
  std::string description;  // appended to the reason: what the message was and what `payload` is
};

/// The payload of a dead letter for the Kafka record value `value`, and its description. The
/// contract is read as far as it goes, whatever its version: the event JSON (a store body, or an
/// envelope's event item) that parses is kept whole, scrubbed (normalize::ScrubbedJson with the
/// project's scrubbing settings when the message names a project, the default rules always);
/// anything else is kept as redacted text (normalize::RedactText), at most
/// kMaxRedactedPayloadBytes of it. May throw what `settings` throws.
DeadLetterPayload MakeDeadLetterPayload(std::string_view value, const SettingsLookup& settings);

/// The payload of an event the database refused: its storable JSON (already scrubbed with the
/// project's settings) scrubbed again with the default rules, which apply to every dead letter.
std::string RefusedEventPayload(std::string_view storable_json);

}  // namespace rookery::worker
