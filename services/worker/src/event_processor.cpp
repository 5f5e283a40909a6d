#include "event_processor.hpp"

#include <arpa/inet.h>

#include "rookery/protocol/envelope.hpp"
#include "rookery/protocol/json_limits.hpp"

namespace rookery::worker {
namespace {

bool IsIpAddress(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

}  // namespace

ProcessResult ProcessRecord(std::string_view value, std::string_view contract_header, const RulesLookup& rules) {
  if (!contract_header.empty() && contract_header != std::to_string(protocol::kRawEventContractVersion)) {
    return DeadLetter{"unsupported contract version header '" + std::string(contract_header) + "'"};
  }
  auto raw = protocol::DecodeRawEvent(value);
  if (!raw) {
    return DeadLetter{raw.error().message};
  }

  std::string_view event_json;
  protocol::Envelope envelope;  // views into raw->body; must live as long as event_json is used
  if (raw->endpoint == protocol::IngestEndpoint::kStore) {
    event_json = raw->body;
  } else {
    auto parsed = protocol::ParseEnvelope(raw->body);
    if (!parsed) {
      return DeadLetter{"envelope: " + parsed.error().detail + " (" + parsed.error().cause + ")"};
    }
    envelope = std::move(*parsed);
    const protocol::EnvelopeItem* item = envelope.FindEventItem();
    if (item == nullptr) {
      return Skipped{"envelope without an event item"};
    }
    event_json = item->payload;
  }

  rapidjson::Document document;
  document.Parse<rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag>(event_json.data(), event_json.size());
  if (document.HasParseError()) {
    return DeadLetter{"event is not valid JSON"};
  }
  // Normalization, grouping and serialization walk the tree recursively: the relay refuses deeper
  // documents, and a message that bypassed it must not take the worker down either.
  if (protocol::JsonDepth(document) > protocol::kMaxJsonDepth) {
    return DeadLetter{"event JSON nested too deep"};
  }
  if (document.IsObject()) {
    if (auto type = document.FindMember("type"); type != document.MemberEnd() && type->value.IsString() &&
                                                 std::string_view(type->value.GetString()) == "transaction") {
      return Skipped{"transactions are not grouped into issues"};
    }
  }
  ProcessedEvent processed;
  if (document.IsObject()) {
    // Grouping reads the event as sent; normalization then rewrites the document in place.
    const grouping::SentryGroupingResult sentry = grouping::ComputeSentryGrouping(document, rules(raw->project_id));
    processed.grouping.config = sentry.config;
    processed.grouping.hashes = sentry.hashes;
    if (sentry.title) processed.title_override = *sentry.title;
  }
  auto event = normalize::NormalizeEvent(document, {.received_at_ms = raw->received_at_ms});
  if (!event) {
    return DeadLetter{event.error()};
  }
  if (processed.grouping.hashes.empty()) {
    processed.grouping = grouping::ComputeInterimGrouping(*event);  // cannot happen: a fallback always hashes
  }
  if (!processed.title_override.empty()) event->title = processed.title_override;
  processed.event = std::move(*event);
  processed.client_ip = IsIpAddress(raw->client_ip) ? raw->client_ip : std::string();
  raw->body.clear();  // the storable copy lives in event.storable_json
  processed.raw = std::move(*raw);
  return processed;
}

}  // namespace rookery::worker
