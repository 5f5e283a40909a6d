// Fuzz target: the envelope body as the relay sees it after decoding (ParseEnvelope, then
// InspectEnvelopeBody). Input: the raw envelope bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "rookery/protocol/envelope.hpp"
#include "rookery/protocol/ingest_payload.hpp"

namespace rookery::protocol {
namespace {

using fuzz::IsInside;

// Small limits, so that inputs of a few KiB (libFuzzer's default max_len is 4096) reach every
// "too large" branch; the production defaults (1 MiB, 100 MiB) never trigger while fuzzing.
constexpr EnvelopeLimits kLimits{.max_event_bytes = 2048, .max_attachment_bytes = 512, .max_attachments_bytes = 1024};

void CheckForwardBody(const Envelope& original, const IngestPayload& payload) {
  // The worker parses forward_body again: it must be an envelope with the same header, holding
  // exactly the forwarded items, byte for byte.
  auto forwarded = ParseEnvelope(payload.forward_body);
  ROOKERY_FUZZ_CHECK(forwarded.has_value());
  ROOKERY_FUZZ_CHECK(forwarded->event_id == original.event_id);
  ROOKERY_FUZZ_CHECK(forwarded->dsn == original.dsn);
  std::size_t next = 0;
  for (const auto& item : original.items) {
    if (!IsForwardedItemType(item.type)) continue;
    ROOKERY_FUZZ_CHECK(next < forwarded->items.size());
    ROOKERY_FUZZ_CHECK(forwarded->items[next].type == item.type);
    ROOKERY_FUZZ_CHECK(forwarded->items[next].payload == item.payload);
    ++next;
  }
  ROOKERY_FUZZ_CHECK(next == forwarded->items.size());

  // Forwarding is idempotent: the worker could run the same inspection and get the same bytes.
  auto again = InspectEnvelopeBody(payload.forward_body, kLimits);
  ROOKERY_FUZZ_CHECK(again.has_value());
  ROOKERY_FUZZ_CHECK(again->forward_body == payload.forward_body);
  ROOKERY_FUZZ_CHECK(again->has_event == payload.has_event);
  ROOKERY_FUZZ_CHECK(again->dropped.empty());
  if (payload.has_event && !payload.event_id_generated) {
    ROOKERY_FUZZ_CHECK(!again->event_id_generated && again->event_id == payload.event_id);
  }
}

void FuzzEnvelope(std::string_view body) {
  auto envelope = ParseEnvelope(body);
  if (envelope) {
    // Zero-copy: every view must point into the caller's buffer.
    ROOKERY_FUZZ_CHECK(IsInside(envelope->header, body));
    for (const auto& item : envelope->items) {
      ROOKERY_FUZZ_CHECK(IsInside(item.header, body));
      ROOKERY_FUZZ_CHECK(IsInside(item.payload, body));
    }
  }

  auto payload = InspectEnvelopeBody(body, kLimits);
  if (!payload) return;
  // InspectEnvelopeBody is ParseEnvelope plus checks: it cannot accept what the parser refused.
  ROOKERY_FUZZ_CHECK(envelope.has_value());
  ROOKERY_FUZZ_CHECK(payload->envelope_dsn == envelope->dsn);
  ROOKERY_FUZZ_CHECK(payload->has_event == (envelope->FindEventItem() != nullptr));
  if (payload->has_event && envelope->event_id) {
    // The envelope header's event_id wins over the payload's.
    ROOKERY_FUZZ_CHECK(!payload->event_id_generated && payload->event_id == *envelope->event_id);
  }
  std::size_t forwarded_items = 0;
  for (const auto& item : envelope->items) {
    if (IsForwardedItemType(item.type)) {
      ++forwarded_items;
      ROOKERY_FUZZ_CHECK(item.payload.size() <= kLimits.max_event_bytes);
    } else if (item.type == "attachment") {
      ROOKERY_FUZZ_CHECK(item.payload.size() <= kLimits.max_attachment_bytes);
    }
  }
  ROOKERY_FUZZ_CHECK(payload->dropped.size() + forwarded_items == envelope->items.size());
  ROOKERY_FUZZ_CHECK(payload->forward_body.empty() == (forwarded_items == 0));
  if (!payload->forward_body.empty()) CheckForwardBody(*envelope, *payload);
}

}  // namespace
}  // namespace rookery::protocol

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rookery::protocol::FuzzEnvelope({reinterpret_cast<const char*>(data), size});
  return 0;
}
