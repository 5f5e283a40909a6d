// rookery::protocol — a strict, zero-copy parser of Sentry envelopes (sentry-protocol.md §4.1).
// Views point into the caller's buffer, which must outlive the Envelope.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rookery/core/event_id.hpp"
#include "rookery/core/expected.hpp"
#include "rookery/protocol/ingest_error.hpp"

namespace rookery::protocol {

struct EnvelopeItem {
  std::string type;         // "event", "attachment", "session", ... (as sent)
  std::string_view header;  // the item header's JSON text
  std::string_view payload;
};

struct Envelope {
  std::string_view header;  // the envelope header's JSON text
  std::optional<EventId> event_id;
  std::string dsn;  // the "dsn" header, empty when absent
  std::vector<EnvelopeItem> items;

  /// The item that creates an issue ("event"), if any.
  [[nodiscard]] const EnvelopeItem* FindEventItem() const;
};

/// Fails with kBadEnvelope (cause as Relay words it) on any grammar violation, and with
/// kBadEventId for an envelope header event_id that is not a UUID.
Expected<Envelope, IngestError> ParseEnvelope(std::string_view body);

}  // namespace rookery::protocol
