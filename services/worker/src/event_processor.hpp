// From one Kafka record to a row-ready event, or to a dead letter with its reason. No I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "rookery/grouping/grouping.hpp"
#include "rookery/grouping/sentry_grouping.hpp"
#include "rookery/normalize/event.hpp"
#include "rookery/protocol/raw_event.hpp"
#include "rules_cache.hpp"

namespace rookery::worker {

struct ProcessedEvent {
  protocol::RawEvent raw;  // body moved out; kept for ids, times, SDK and client IP
  normalize::Event event;
  grouping::GroupingResult grouping;
  std::string title_override;  // from a fingerprint rule with a title
  std::string client_ip;       // validated IPv4/IPv6 text, or empty
  // What the issue aggregates: tag pairs sorted by key then value, without duplicate pairs (the
  // order makes concurrent workers lock tag rows alike), and Sentry's user tag ("id:42", ...).
  std::vector<std::pair<std::string, std::string>> tags;
  std::string user_key;
  // The event's row for the COPY into `events` without its issue id (see RenderEventRow).
  std::string copy_row;
  // Where the record came from, for dead letters.
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

/// Not an error: the SDK sent something that makes no issue (a transaction on /store/).
struct Skipped {
  std::string reason;
};

/// What cannot be processed. ProcessRecord builds `payload` with MakeDeadLetterPayload (dead_letter.hpp):
/// the message scrubbed, never as it came; `reason` ends with what the message was and what
/// `payload` holds.
struct DeadLetter {
  std::string reason;
  std::string payload;
};

using ProcessResult = std::variant<ProcessedEvent, Skipped, DeadLetter>;

/// The project's grouping rules and scrubbing settings; may throw (e.g. a database error loading
/// them), which fails the batch for a retry rather than processing an event with the wrong ones.
using SettingsLookup = std::function<const ProjectSettings&(std::int64_t project_id)>;

/// `value` is the Kafka record's value (the RawEvent), `contract_header` the record's rookery-contract header value
/// (empty if absent). Groups with Sentry's newstyle:2023-01-11 config and the project's rules, through `memo` when
/// given.
ProcessResult ProcessRecord(std::string_view value, std::string_view contract_header, const SettingsLookup& settings,
                            grouping::GroupingMemo* memo = nullptr);

}  // namespace rookery::worker
