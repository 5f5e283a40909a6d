// Fuzz target: the store endpoint's body check (InspectStoreBody), on the raw input and, as the
// relay does, after the legacy base64/zlib decoding. Input: the request body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "rookery/protocol/content_encoding.hpp"
#include "rookery/protocol/ingest_payload.hpp"

namespace rookery::protocol {
namespace {

constexpr std::size_t kMaxEventBytes = 1 << 20;

void CheckStore(std::string_view body) {
  auto payload = InspectStoreBody(body);
  if (!payload) {
    const IngestErrorCode code = payload.error().code;
    ROOKERY_FUZZ_CHECK(code == IngestErrorCode::kEmptyBody || code == IngestErrorCode::kBadJson ||
                       code == IngestErrorCode::kBadEventId);
  } else {
    // A store body is one event: nothing to forward separately, nothing dropped.
    ROOKERY_FUZZ_CHECK(payload->has_event);
    ROOKERY_FUZZ_CHECK(payload->forward_body.empty() && payload->dropped.empty() && payload->envelope_dsn.empty());
  }

  // The same JSON as the event item of an envelope must get the same verdict and the same id: the
  // two endpoints share one event check, and the worker relies on both agreeing.
  const std::string envelope =
      "{}\n{\"type\":\"event\",\"length\":" + std::to_string(body.size()) + "}\n" + std::string(body) + "\n";
  auto as_envelope = InspectEnvelopeBody(envelope);
  if (payload) {
    ROOKERY_FUZZ_CHECK(as_envelope.has_value() && as_envelope->has_event);
    ROOKERY_FUZZ_CHECK(as_envelope->event_id_generated == payload->event_id_generated);
    if (!payload->event_id_generated) ROOKERY_FUZZ_CHECK(as_envelope->event_id == payload->event_id);
  } else if (payload.error().code != IngestErrorCode::kEmptyBody) {
    ROOKERY_FUZZ_CHECK(!as_envelope.has_value() && as_envelope.error().code == payload.error().code);
  }
}

void FuzzStoreBody(std::string_view input) {
  CheckStore(input);
  auto legacy = DecodeLegacyStoreBody(std::string(input), kMaxEventBytes);
  if (legacy && *legacy != input) CheckStore(*legacy);
}

}  // namespace
}  // namespace rookery::protocol

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rookery::protocol::FuzzStoreBody({reinterpret_cast<const char*>(data), size});
  return 0;
}
