#include "rookery/protocol/envelope.hpp"

#include "json_prefix.hpp"
#include "rookery/core/strings.hpp"

namespace rookery::protocol {
namespace {

IngestError Malformed(const char* cause) {
  return MakeIngestError(IngestErrorCode::kBadEnvelope, cause);
}

bool OnlyWhitespace(std::string_view text) {
  return TrimWhitespace(text).empty();
}

}  // namespace

const EnvelopeItem* Envelope::FindEventItem() const {
  for (const auto& item : items) {
    if (item.type == "event") {
      return &item;
    }
  }
  return nullptr;
}

Expected<Envelope, IngestError> ParseEnvelope(std::string_view body) {
  Envelope envelope;
  if (OnlyWhitespace(body)) {
    return MakeUnexpected(Malformed("missing envelope header"));
  }
  rapidjson::Document header;
  const auto header_end = internal::ParseJsonPrefix(body, header);
  if (!header_end || !header.IsObject()) {
    return MakeUnexpected(Malformed("invalid envelope header"));
  }
  if (*header_end < body.size() && body[*header_end] != '\n') {
    return MakeUnexpected(Malformed("missing newline after header or payload"));
  }
  envelope.header = body.substr(0, *header_end);
  if (auto it = header.FindMember("event_id"); it != header.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsString()) {
      return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadEventId, "invalid event id"));
    }
    envelope.event_id = EventId::Parse({it->value.GetString(), it->value.GetStringLength()});
    if (!envelope.event_id) {
      return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadEventId, "invalid event id"));
    }
  }
  if (auto it = header.FindMember("dsn"); it != header.MemberEnd() && it->value.IsString()) {
    envelope.dsn.assign(it->value.GetString(), it->value.GetStringLength());
  }

  std::size_t offset = *header_end + 1;
  while (offset < body.size()) {
    // SDKs sometimes end with a blank line; Relay would fail on it, but it carries no item.
    if (OnlyWhitespace(body.substr(offset))) {
      break;
    }
    rapidjson::Document item_header;
    const auto relative_end = internal::ParseJsonPrefix(body.substr(offset), item_header);
    if (!relative_end || !item_header.IsObject()) {
      return MakeUnexpected(Malformed("invalid item header"));
    }
    const std::size_t item_header_end = offset + *relative_end;
    if (item_header_end < body.size() && body[item_header_end] != '\n') {
      return MakeUnexpected(Malformed("missing newline after header or payload"));
    }
    EnvelopeItem item;
    item.header = TrimWhitespace(body.substr(offset, item_header_end - offset));
    const auto type = item_header.FindMember("type");
    if (type == item_header.MemberEnd() || !type->value.IsString()) {
      return MakeUnexpected(Malformed("missing item type"));
    }
    item.type.assign(type->value.GetString(), type->value.GetStringLength());

    const std::size_t payload_start = std::min(item_header_end + 1, body.size());
    std::size_t payload_end;
    if (auto length = item_header.FindMember("length"); length != item_header.MemberEnd()) {
      if (!length->value.IsUint64()) {
        return MakeUnexpected(Malformed("invalid item length"));
      }
      const std::uint64_t declared = length->value.GetUint64();
      if (declared > body.size() - payload_start) {
        return MakeUnexpected(Malformed("unexpected end of file"));
      }
      payload_end = payload_start + declared;
      if (payload_end < body.size() && body[payload_end] != '\n') {
        return MakeUnexpected(Malformed("missing newline after header or payload"));
      }
    } else {
      const std::size_t newline = body.find('\n', payload_start);
      payload_end = newline == std::string_view::npos ? body.size() : newline;
    }
    item.payload = body.substr(payload_start, payload_end - payload_start);
    envelope.items.push_back(std::move(item));
    offset = payload_end + 1;
  }
  return envelope;
}

}  // namespace rookery::protocol
