#include "rookery/protocol/raw_event.hpp"

#include "rookery/ingest/v1/raw_event.pb.h"

namespace rookery::protocol {

namespace pb = rookery::ingest::v1;

namespace {

void SetFields(const RawEvent& event, pb::RawEvent& message) {
  message.set_contract_version(event.contract_version);
  message.set_event_id(std::string(event.event_id.AsBytes()));
  message.set_project_id(static_cast<std::uint64_t>(event.project_id));
  message.set_key_id(static_cast<std::uint64_t>(event.key_id));
  message.set_received_at_ms(event.received_at_ms);
  message.set_client_ip(event.client_ip);
  message.set_endpoint(event.endpoint == IngestEndpoint::kStore ? pb::ENDPOINT_STORE : pb::ENDPOINT_ENVELOPE);
  message.set_sdk_name(event.sdk_name);
  message.set_sdk_version(event.sdk_version);
}

}  // namespace

std::string EncodeRawEvent(const RawEvent& event) {
  pb::RawEvent message;
  SetFields(event, message);
  message.set_body(event.body);
  return message.SerializeAsString();
}

MallocBuffer EncodeRawEventForProducer(RawEvent&& event) {
  pb::RawEvent message;
  SetFields(event, message);
  message.set_body(std::move(event.body));
  MallocBuffer buffer(message.ByteSizeLong());
  message.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(buffer.Data()));
  return buffer;
}

Expected<RawEvent, DecodeError> DecodeRawEvent(std::string_view bytes) {
  pb::RawEvent message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return MakeUnexpected(DecodeError{DecodeErrorCode::kNotProtobuf, "message is not a RawEvent protobuf"});
  }
  if (message.contract_version() != kRawEventContractVersion) {
    return MakeUnexpected(DecodeError{DecodeErrorCode::kUnsupportedVersion,
                                      "unsupported contract version " + std::to_string(message.contract_version())});
  }
  auto event_id = EventId::FromBytes(message.event_id());
  if (!event_id) {
    return MakeUnexpected(DecodeError{DecodeErrorCode::kBadEventId, "event_id must be 16 bytes"});
  }
  if (message.project_id() == 0 || message.project_id() > static_cast<std::uint64_t>(INT64_MAX)) {
    return MakeUnexpected(DecodeError{DecodeErrorCode::kBadProject, "project_id missing"});
  }
  RawEvent event;
  event.contract_version = message.contract_version();
  event.event_id = *event_id;
  event.project_id = static_cast<std::int64_t>(message.project_id());
  event.key_id = static_cast<std::int64_t>(message.key_id());
  event.received_at_ms = message.received_at_ms();
  event.client_ip = message.client_ip();
  switch (message.endpoint()) {
    case pb::ENDPOINT_STORE: event.endpoint = IngestEndpoint::kStore; break;
    case pb::ENDPOINT_ENVELOPE: event.endpoint = IngestEndpoint::kEnvelope; break;
    default: return MakeUnexpected(DecodeError{DecodeErrorCode::kBadEndpoint, "unknown endpoint"});
  }
  event.sdk_name = message.sdk_name();
  event.sdk_version = message.sdk_version();
  event.body = std::move(*message.mutable_body());
  return event;
}

std::optional<UncheckedRawEvent> DecodeRawEventUnchecked(std::string_view bytes) {
  pb::RawEvent message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || message.contract_version() == 0) {
    return std::nullopt;
  }
  UncheckedRawEvent event;
  event.contract_version = message.contract_version();
  event.event_id = EventId::FromBytes(message.event_id());
  if (message.project_id() <= static_cast<std::uint64_t>(INT64_MAX)) {
    event.project_id = static_cast<std::int64_t>(message.project_id());
  }
  switch (message.endpoint()) {
    case pb::ENDPOINT_STORE: event.endpoint = IngestEndpoint::kStore; break;
    case pb::ENDPOINT_ENVELOPE: event.endpoint = IngestEndpoint::kEnvelope; break;
    default: break;
  }
  event.body = std::move(*message.mutable_body());
  return event;
}

}  // namespace rookery::protocol
