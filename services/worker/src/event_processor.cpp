#include "event_processor.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "dead_letter.hpp"
#include "rookery/core/time.hpp"
#include "rookery/protocol/envelope.hpp"
#include "rookery/protocol/json_limits.hpp"

namespace rookery::worker {
namespace {

bool IsIpAddress(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// The envelope header's sent_at (the SDK's clock when it sent), for clock drift correction; 0 when
// absent or unreadable, as for store requests.
std::int64_t SentAtMillis(std::string_view envelope_header) {
  rapidjson::Document header;
  header.Parse(envelope_header.data(), envelope_header.size());
  if (header.HasParseError() || !header.IsObject()) return 0;
  auto sent_at = header.FindMember("sent_at");
  if (sent_at == header.MemberEnd() || !sent_at->value.IsString()) return 0;
  return ParseIso8601Millis({sent_at->value.GetString(), sent_at->value.GetStringLength()}).value_or(0);
}

// Sorted by key then value, without duplicates: the order concurrent workers lock tag rows in.
std::vector<std::pair<std::string, std::string>> IssueTags(const normalize::Event& event) {
  std::vector<std::pair<std::string, std::string>> tags = event.tags;
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

// Sentry's user tag, which counts distinct users: the first identifying field of the user.
std::string UserKey(const normalize::User& user) {
  if (!user.id.empty()) return "id:" + user.id;
  if (!user.email.empty()) return "email:" + user.email;
  if (!user.username.empty()) return "username:" + user.username;
  if (!user.ip_address.empty()) return "ip:" + user.ip_address;
  return "";
}

ProcessResult Process(std::string_view value, std::string_view contract_header, const SettingsLookup& settings,
                      grouping::GroupingMemo* memo) {
  if (!contract_header.empty() && contract_header != std::to_string(protocol::kRawEventContractVersion)) {
    return DeadLetter{"unsupported contract version header '" + std::string(contract_header) + "'"};
  }
  auto raw = protocol::DecodeRawEvent(value);
  if (!raw) {
    return DeadLetter{raw.error().message};
  }

  // The event JSON, parsed in place below (decoding strings in the buffer saves copying each one
  // twice): the document's strings point into it, so it must outlive the document, and the raw
  // body is no longer the body the relay sent once parsed.
  char* event_json = nullptr;
  std::string envelope_event;
  std::int64_t sent_at_ms = 0;
  if (raw->endpoint == protocol::IngestEndpoint::kStore) {
    event_json = raw->body.data();
  } else {
    auto envelope = protocol::ParseEnvelope(raw->body);
    if (!envelope) {
      return DeadLetter{"envelope: " + envelope.error().detail + " (" + envelope.error().cause + ")"};
    }
    sent_at_ms = SentAtMillis(envelope->header);
    const protocol::EnvelopeItem* item = envelope->FindEventItem();
    if (item == nullptr) {
      return Skipped{"envelope without an event item"};
    }
    envelope_event = item->payload;  // a view into the envelope: copied for its terminating NUL
    event_json = envelope_event.data();
  }

  // As with the length-bounded parse it replaced, the text ends at its end or at a NUL byte.
  rapidjson::Document document;
  document.ParseInsitu<rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag>(event_json);
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
  const ProjectSettings& project = settings(raw->project_id);
  // Normalization (limits, scrubbing) first and grouping on its result, as Sentry groups what
  // Relay normalized: a secret must not reach a fingerprint rule's title, and a filtered value
  // groups as "[Filtered]" does in Sentry.
  auto event = normalize::NormalizeEvent(document, {.received_at_ms = raw->received_at_ms,
                                                    .sent_at_ms = sent_at_ms,
                                                    .client_ip = raw->client_ip,
                                                    .scrubbing = project.scrubbing});
  if (!event) {
    return DeadLetter{event.error()};
  }
  grouping::SentryGroupingResult computed;
  const grouping::SentryGroupingResult& sentry =
      memo != nullptr ? memo->Compute(document, project.rules, project.rules_id)
                      : (computed = grouping::ComputeSentryGrouping(document, project.rules));
  processed.grouping.config = sentry.config;
  processed.grouping.hashes = sentry.hashes;
  if (sentry.title) processed.title_override = *sentry.title;
  if (processed.grouping.hashes.empty()) {
    processed.grouping = grouping::ComputeInterimGrouping(*event);  // cannot happen: a fallback always hashes
  }
  if (!processed.title_override.empty()) {
    // Sentry keeps a fingerprint rule's title in the metadata too.
    event->title = processed.title_override;
    event->metadata.title = processed.title_override;
  }
  processed.event = std::move(*event);
  processed.tags = IssueTags(processed.event);
  processed.user_key = UserKey(processed.event.user);
  // A project that scrubs IP addresses stores none, not even the one the relay saw.
  const bool keep_ip = !project.scrubbing.scrub_ip_addresses && IsIpAddress(raw->client_ip);
  processed.client_ip = keep_ip ? raw->client_ip : std::string();
  std::string().swap(raw->body);  // freed, not only emptied: the storable copy lives in event.storable_json
  processed.raw = std::move(*raw);
  return processed;
}

}  // namespace

ProcessResult ProcessRecord(std::string_view value, std::string_view contract_header, const SettingsLookup& settings,
                            grouping::GroupingMemo* memo) {
  ProcessResult result = Process(value, contract_header, settings, memo);
  if (auto* dead = std::get_if<DeadLetter>(&result)) {
    // From `value`, which Process leaves as it was (it parses a copy of the event in place).
    DeadLetterPayload kept = MakeDeadLetterPayload(value, settings);
    dead->reason += kept.description;
    dead->payload = std::move(kept.payload);
  }
  return result;
}

}  // namespace rookery::worker
