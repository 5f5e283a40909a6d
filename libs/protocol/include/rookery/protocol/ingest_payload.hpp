// rookery::protocol — the relay's synchronous look at a decoded body: is it well-formed, and
// which event id does it answer with? Everything else is the worker's job.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

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
  /// Envelopes only: the envelope to forward, holding just the items Rookery processes (event,
  /// security, user_report); empty when none.
  std::string forward_body;
  /// Envelope items accepted but not forwarded (sessions, transactions, attachments, client
  /// reports, unknown types), by type, for outcome counters.
  struct Dropped {
    std::string type;
    std::size_t bytes = 0;
  };
  std::vector<Dropped> dropped;
};

struct EnvelopeLimits {
  std::size_t max_event_bytes = 1024 * 1024;              // event, security and user_report items
  std::size_t max_attachment_bytes = 100 * 1024 * 1024;   // one attachment
  std::size_t max_attachments_bytes = 100 * 1024 * 1024;  // all attachments of the envelope
};

/// Whether an item type is forwarded to the worker.
bool IsForwardedItemType(std::string_view type);

/// A store body: one JSON object. Its `event_id`, when present, must be a UUID.
Expected<IngestPayload, IngestError> InspectStoreBody(std::string_view body);
/// An envelope body (§4): the envelope header's event_id wins over the event item's. Items over
/// their limit fail the whole envelope with kTooLarge (as Relay does, §5.2).
Expected<IngestPayload, IngestError> InspectEnvelopeBody(std::string_view body, const EnvelopeLimits& limits = {});

}  // namespace rookery::protocol
