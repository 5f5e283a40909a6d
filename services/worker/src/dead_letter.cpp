#include "dead_letter.hpp"

#include <rapidjson/document.h>

#include "rookery/normalize/scrub.hpp"
#include "rookery/protocol/envelope.hpp"
#include "rookery/protocol/json_limits.hpp"

namespace rookery::worker {
namespace {

struct Kept {
  std::string payload;
  std::string form;  // for the description
};

// At most `limit` bytes of redacted `text`, cut between UTF-8 sequences. Redacted before it is
// cut, so a secret the cut would have split is already gone.
Kept Redacted(std::string_view text, const normalize::ScrubbingConfig& config, std::string_view what) {
  Kept kept{normalize::RedactText(text, config), "redacted text of " + std::string(what)};
  if (kept.payload.size() > kMaxRedactedPayloadBytes) {
    std::size_t cut = kMaxRedactedPayloadBytes;
    while (cut > 0 && (static_cast<unsigned char>(kept.payload[cut]) & 0xC0) == 0x80) --cut;
    kept.form += ", its first " + std::to_string(cut) + " of " + std::to_string(kept.payload.size()) + " bytes";
    kept.payload.resize(cut);
  }
  return kept;
}

// JSON text scrubbed whole when it parses, else redacted text.
Kept JsonOrRedacted(std::string_view text, const normalize::ScrubbingConfig& config, std::string_view what) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (document.HasParseError()) return Redacted(text, config, what);
  return {normalize::ScrubbedJson(document, config, protocol::kMaxJsonDepth), "scrubbed JSON of " + std::string(what)};
}

}  // namespace

DeadLetterPayload MakeDeadLetterPayload(std::string_view value, const SettingsLookup& settings) {
  std::string description = " [message of " + std::to_string(value.size()) + " bytes";
  auto raw = protocol::DecodeRawEventUnchecked(value);
  Kept kept;
  if (!raw) {
    kept = Redacted(value, {}, "the message");
  } else {
    description += ", contract version " + std::to_string(raw->contract_version);
    if (raw->project_id > 0) description += ", project " + std::to_string(raw->project_id);
    if (raw->event_id) description += ", event " + raw->event_id->ToHex();
    const normalize::ScrubbingConfig& config =
        raw->project_id > 0 ? settings(raw->project_id).scrubbing : normalize::ScrubbingConfig{};
    if (raw->endpoint == protocol::IngestEndpoint::kStore) {
      kept = JsonOrRedacted(raw->body, config, "the event");
    } else if (raw->endpoint == protocol::IngestEndpoint::kEnvelope) {
      auto envelope = protocol::ParseEnvelope(raw->body);
      const protocol::EnvelopeItem* item = envelope ? envelope->FindEventItem() : nullptr;
      kept = item != nullptr ? JsonOrRedacted(item->payload, config, "the envelope's event item")
                             : Redacted(raw->body, config, "the envelope");
    } else {
      kept = Redacted(raw->body, config, "the body");
    }
  }
  description += "; payload: " + kept.form + "]";
  return {std::move(kept.payload), std::move(description)};
}

std::string RefusedEventPayload(std::string_view storable_json) {
  return JsonOrRedacted(storable_json, {}, "the event").payload;
}

}  // namespace rookery::worker
