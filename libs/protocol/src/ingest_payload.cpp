#include "rookery/protocol/ingest_payload.hpp"

#include <rapidjson/document.h>

#include "rookery/core/strings.hpp"
#include "rookery/protocol/envelope.hpp"

namespace rookery::protocol {
namespace {

// Parses an event JSON object and returns its event_id (nullopt if it has none).
Expected<std::optional<EventId>, IngestError> ReadEventObject(std::string_view json) {
  rapidjson::Document doc;
  // Python SDKs can emit bare NaN/Infinity; accept them rather than lose the event.
  doc.Parse<rapidjson::kParseNanAndInfFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return MakeUnexpected(MakeIngestError(
        IngestErrorCode::kBadJson, doc.HasParseError() ? "body is not valid JSON" : "event must be a JSON object"));
  }
  const auto it = doc.FindMember("event_id");
  if (it == doc.MemberEnd() || it->value.IsNull()) {
    return std::optional<EventId>{};
  }
  if (!it->value.IsString()) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadEventId));
  }
  auto id = EventId::Parse({it->value.GetString(), it->value.GetStringLength()});
  if (!id) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadEventId));
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

Expected<IngestPayload, IngestError> InspectEnvelopeBody(std::string_view body) {
  if (TrimWhitespace(body).empty()) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kEmptyBody));
  }
  auto envelope = ParseEnvelope(body);
  if (!envelope) {
    return MakeUnexpected(envelope.error());
  }
  const EnvelopeItem* event = envelope->FindEventItem();
  IngestPayload payload;
  if (event != nullptr) {
    auto payload_id = ReadEventObject(event->payload);
    if (!payload_id) {
      return MakeUnexpected(payload_id.error());
    }
    payload = WithId(envelope->event_id ? envelope->event_id : *payload_id);
  }
  payload.envelope_dsn = envelope->dsn;
  return payload;
}

}  // namespace rookery::protocol
