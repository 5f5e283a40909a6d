// From one Kafka record to a row-ready event, or to a dead letter with its reason. No I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rookery/grouping/grouping.hpp"
#include "rookery/normalize/event.hpp"
#include "rookery/protocol/raw_event.hpp"

namespace rookery::worker {

struct ProcessedEvent {
  protocol::RawEvent raw;  // body moved out; kept for ids, times, SDK and client IP
  normalize::Event event;
  grouping::GroupingResult grouping;
  std::string client_ip;  // validated IPv4/IPv6 text, or empty
  // Where the record came from, for dead letters.
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

/// Not an error: the SDK sent something that makes no issue (a transaction on /store/).
struct Skipped {
  std::string reason;
};

struct DeadLetter {
  std::string reason;
};

using ProcessResult = std::variant<ProcessedEvent, Skipped, DeadLetter>;

/// `contract_header` is the record's rookery-contract header value (empty if absent).
ProcessResult ProcessRecord(std::string_view value, std::string_view contract_header);

}  // namespace rookery::worker
