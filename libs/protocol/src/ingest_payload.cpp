#include "rookery/protocol/ingest_payload.hpp"

#include "event_json_scan.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/protocol/envelope.hpp"

namespace rookery::protocol {
namespace {

// Parses an event JSON object and returns its event_id (nullopt if it has none).
Expected<std::optional<EventId>, IngestError> ReadEventObject(std::string_view json) {
  using Verdict = internal::EventJsonScan::Verdict;
  std::string event_id_storage;
  internal::EventJsonScan scan = internal::ScanEventJson(json);
  if (scan.verdict == Verdict::kUndecided) scan = internal::ReadEventJson(json, event_id_storage);
  switch (scan.verdict) {
    case Verdict::kTooDeep: return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadJson, "JSON nested too deep"));
    case Verdict::kInvalid:
    case Verdict::kUndecided:
      return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadJson, "body is not valid JSON"));
    case Verdict::kNotObject:
      return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadJson, "event must be a JSON object"));
    case Verdict::kObject: break;
  }
  if (!scan.has_event_id_key || scan.event_id_null) {
    return std::optional<EventId>{};
  }
  if (!scan.event_id_is_string) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadEventId, "invalid event id"));
  }
  auto id = EventId::Parse(scan.event_id);
  if (!id) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadEventId, "invalid event id"));
  }
  return std::optional<EventId>{*id};
}

IngestPayload WithId(std::optional<EventId> id) {
  IngestPayload payload;
  payload.has_event = true;
  payload.event_id_generated = !id.has_value();
  payload.event_id = id ? *id : EventId::Random();
  return payload;
}

}  // namespace

Expected<IngestPayload, IngestError> InspectStoreBody(std::string_view body) {
  if (TrimWhitespace(body).empty()) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kEmptyBody));
  }
  auto id = ReadEventObject(body);
  if (!id) {
    return MakeUnexpected(id.error());
  }
  return WithId(*id);
}

bool IsForwardedItemType(std::string_view type) {
  return type == "event" || type == "security" || type == "user_report";
}

Expected<IngestPayload, IngestError> InspectEnvelopeBody(std::string_view body, const EnvelopeLimits& limits) {
  if (TrimWhitespace(body).empty()) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kEmptyBody));
  }
  auto envelope = ParseEnvelope(body);
  if (!envelope) {
    return MakeUnexpected(envelope.error());
  }
  const auto too_large = [](const std::string& type) {
    return MakeUnexpected(
        MakeIngestError(IngestErrorCode::kTooLarge, "envelope exceeded size limits for type '" + type + "'"));
  };
  IngestPayload payload;
  std::size_t attachments_bytes = 0;
  std::string forwarded_items;
  for (const auto& item : envelope->items) {
    if (IsForwardedItemType(item.type)) {
      if (item.payload.size() > limits.max_event_bytes) return too_large(item.type);
      // Copied as sent: an item without `length` has no newline in its payload, so the
      // forwarded envelope parses exactly as the original did.
      forwarded_items += "\n";
      forwarded_items += item.header;
      forwarded_items += "\n";
      forwarded_items += item.payload;
      continue;
    }
    // Dropped, but still held to Relay's limit for their kind (sentry-protocol.md §5.3), so an
    // SDK learns of an oversized item the same way from either server.
    if ((item.type == "transaction" || item.type == "span") && item.payload.size() > limits.max_event_bytes) {
      return too_large(item.type);
    }
    if (item.type == "attachment") {
      attachments_bytes += item.payload.size();
      if (item.payload.size() > limits.max_attachment_bytes || attachments_bytes > limits.max_attachments_bytes) {
        return too_large(item.type);
      }
    }
    payload.dropped.push_back({item.type, item.payload.size()});
  }

  if (const EnvelopeItem* event = envelope->FindEventItem(); event != nullptr) {
    auto payload_id = ReadEventObject(event->payload);
    if (!payload_id) {
      return MakeUnexpected(payload_id.error());
    }
    IngestPayload with_id = WithId(envelope->event_id ? envelope->event_id : *payload_id);
    payload.has_event = true;
    payload.event_id = with_id.event_id;
    payload.event_id_generated = with_id.event_id_generated;
  }
  if (!forwarded_items.empty()) {
    if (!payload.has_event) payload.event_id = envelope->event_id ? *envelope->event_id : EventId::Random();
    payload.forward_body = std::string(envelope->header) + forwarded_items + "\n";
  }
  payload.envelope_dsn = envelope->dsn;
  return payload;
}

}  // namespace rookery::protocol
