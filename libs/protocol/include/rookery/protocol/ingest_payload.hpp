// rookery::protocol — the relay's synchronous look at a decoded body: is it well-formed, and
// which event id does it answer with? Everything else is the worker's job.
#pragma once

#include <string_view>

#include "rookery/core/event_id.hpp"
#include "rookery/core/expected.hpp"
#include "rookery/protocol/ingest_error.hpp"

namespace rookery::protocol {

struct IngestPayload {
  /// False for envelopes without an event item (sessions, client reports): answered 200 `{}`
  /// and not forwarded.
  bool has_event = false;
  EventId event_id;
  /// True when the SDK sent no id and the relay made one up.
  bool event_id_generated = false;
  /// The envelope header's `dsn`, empty when absent (or for store bodies).
  std::string envelope_dsn;
};

/// A store body: one JSON object. Its `event_id`, when present, must be a UUID.
Expected<IngestPayload, IngestError> InspectStoreBody(std::string_view body);
/// An envelope body (§4): the envelope header's event_id wins over the event item's.
Expected<IngestPayload, IngestError> InspectEnvelopeBody(std::string_view body);

}  // namespace rookery::protocol
