#include "rookery/protocol/ingest_payload.hpp"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "rookery/core/strings.hpp"
#include "rookery/protocol/envelope.hpp"
#include "rookery/protocol/json_limits.hpp"

namespace rookery::protocol {
namespace {

// Validates a whole JSON document and remembers the top-level "event_id" string, without building
// a DOM: the relay only needs to know the body is a JSON object and which id to answer with.
class EventIdScanner : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, EventIdScanner> {
 public:
  bool Default() {
    if (depth_ == 0) top_level_is_object_ = false;
    expect_event_id_ = false;
    return true;
  }
  bool String(const char* text, rapidjson::SizeType length, bool) {
    if (expect_event_id_) event_id_.assign(text, length);
    if (depth_ == 0) top_level_is_object_ = false;
    expect_event_id_ = false;
    return true;
  }
  bool Null() {
    if (expect_event_id_) event_id_null_ = true;
    expect_event_id_ = false;
    return true;
  }
  bool Key(const char* text, rapidjson::SizeType length, bool) {
    expect_event_id_ = depth_ == 1 && std::string_view(text, length) == "event_id";
    if (expect_event_id_) has_event_id_key_ = true;
    return true;
  }
  bool StartObject() {
    if (depth_ == 0) top_level_is_object_ = true;
    if (expect_event_id_) event_id_is_string_ = false;
    expect_event_id_ = false;
    return Descend();
  }
  bool EndObject(rapidjson::SizeType) {
    --depth_;
    return true;
  }
  bool StartArray() {
    if (depth_ == 0) top_level_is_object_ = false;
    if (expect_event_id_) event_id_is_string_ = false;
    expect_event_id_ = false;
    return Descend();
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return true;
  }
  // Numbers and booleans as event_id are not strings.
  bool Bool(bool) { return Scalar(); }
  bool Int(int) { return Scalar(); }
  bool Uint(unsigned) { return Scalar(); }
  bool Int64(std::int64_t) { return Scalar(); }
  bool Uint64(std::uint64_t) { return Scalar(); }
  bool Double(double) { return Scalar(); }

  bool too_deep_ = false;
  bool top_level_is_object_ = false;
  bool has_event_id_key_ = false;
  bool event_id_null_ = false;
  bool event_id_is_string_ = true;
  std::string event_id_;  // empty when absent or null

 private:
  bool Scalar() {
    if (expect_event_id_) event_id_is_string_ = false;
    if (depth_ == 0) top_level_is_object_ = false;
    expect_event_id_ = false;
    return true;
  }
  bool Descend() {
    if (++depth_ > static_cast<int>(kMaxJsonDepth)) {
      too_deep_ = true;
      return false;  // stops the parse
    }
    return true;
  }
  int depth_ = 0;
  bool expect_event_id_ = false;
};

// Parses an event JSON object and returns its event_id (nullopt if it has none).
Expected<std::optional<EventId>, IngestError> ReadEventObject(std::string_view json) {
  EventIdScanner scanner;
  rapidjson::Reader reader;
  // Reads the view in place (an envelope item is a view into the envelope, so no copy).
  rapidjson::MemoryStream stream(json.data(), json.size());
  // Python SDKs can emit bare NaN/Infinity; accept them rather than lose the event. Iterative, and
  // depth-capped by the scanner: the body is untrusted. The whole text must be one value: a NUL
  // inside it reads as the end of input, hence the position check.
  const auto result = reader.Parse<rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag>(stream, scanner);
  const bool consumed_all = stream.Tell() == json.size();
  if (scanner.too_deep_) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadJson, "JSON nested too deep"));
  }
  if (result.IsError() || !consumed_all || !scanner.top_level_is_object_) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadJson, result.IsError() || !consumed_all
                                                                         ? "body is not valid JSON"
                                                                         : "event must be a JSON object"));
  }
  if (!scanner.has_event_id_key_ || scanner.event_id_null_) {
    return std::optional<EventId>{};
  }
  if (!scanner.event_id_is_string_) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadEventId, "invalid event id"));
  }
  auto id = EventId::Parse(scanner.event_id_);
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
