// rookery::protocol — the relay→worker Kafka message (proto/rookery/ingest/v1/raw_event.proto),
// as a plain struct so services never touch generated protobuf types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rookery/core/event_id.hpp"
#include "rookery/core/expected.hpp"
#include "rookery/core/malloc_buffer.hpp"

namespace rookery::protocol {

inline constexpr std::uint32_t kRawEventContractVersion = 1;
/// Kafka header naming the contract version, readable without decoding the value.
inline constexpr std::string_view kContractHeader = "rookery-contract";

enum class IngestEndpoint { kStore, kEnvelope };

struct RawEvent {
  std::uint32_t contract_version = kRawEventContractVersion;
  EventId event_id;
  std::int64_t project_id = 0;
  std::int64_t key_id = 0;
  std::int64_t received_at_ms = 0;
  std::string client_ip;
  IngestEndpoint endpoint = IngestEndpoint::kStore;
  std::string sdk_name;
  std::string sdk_version;
  std::string body;
};

std::string EncodeRawEvent(const RawEvent& event);
/// The same bytes, written once into a buffer the Kafka producer can own (the relay's path: the
/// body, up to a few MiB, is moved into the message rather than copied).
MallocBuffer EncodeRawEventForProducer(RawEvent&& event);

enum class DecodeErrorCode { kNotProtobuf, kUnsupportedVersion, kBadEventId, kBadEndpoint, kBadProject };
struct DecodeError {
  DecodeErrorCode code;
  std::string message;
};

/// Accepts every contract version this build knows (currently 1); anything else is an error the
/// worker dead-letters.
Expected<RawEvent, DecodeError> DecodeRawEvent(std::string_view bytes);

/// What a message of any contract version says, read as version 1 without validating it: only for
/// describing and scrubbing a dead letter (a message of a newer contract, say, during a rolling
/// upgrade), never for processing one.
struct UncheckedRawEvent {
  std::uint32_t contract_version = 0;
  std::optional<EventId> event_id;         // when 16 bytes
  std::int64_t project_id = 0;             // 0 when missing or out of range
  std::optional<IngestEndpoint> endpoint;  // when one this build knows
  std::string body;
};

/// nullopt unless `bytes` parse as the RawEvent protobuf with a contract version (every real
/// message has one: text and other garbage rarely parses, and then without it).
std::optional<UncheckedRawEvent> DecodeRawEventUnchecked(std::string_view bytes);

}  // namespace rookery::protocol
