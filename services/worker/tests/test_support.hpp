// Shared by the worker's unit tests: a raw event as the relay would produce it, and the settings
// of a project that changed none of the defaults.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "event_processor.hpp"

namespace rookery::worker::testing {

inline protocol::RawEvent MakeRaw(protocol::IngestEndpoint endpoint, std::string body) {
  protocol::RawEvent raw;
  raw.event_id = *EventId::Parse("fc6d8c0c43fc4630ad850ee518f1b9d0");
  raw.project_id = 3;
  raw.key_id = 1;
  raw.received_at_ms = 1700000000000;
  raw.client_ip = "198.51.100.7";
  raw.endpoint = endpoint;
  raw.body = std::move(body);
  return raw;
}

inline const ProjectSettings kDefaults;
inline const SettingsLookup kRules = [](std::int64_t) -> const ProjectSettings& { return kDefaults; };

}  // namespace rookery::worker::testing
