// Sentry-shaped JSON for issues and events. Pure: rows in, JSON text out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rookery::web {

struct IssueRow {
  std::int64_t id = 0;
  std::int64_t short_id = 0;
  std::string title;
  std::string culprit;
  std::string level;
  std::string type;
  std::string status;
  std::string metadata_json;  // jsonb text
  std::int64_t times_seen = 0;
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::int64_t project_id = 0;
  std::string project_slug;
  std::string project_name;
  std::string project_platform;  // empty when unset
  std::string org_slug;
  std::string platform;  // of the event that created the issue
  std::string logger;    // empty when none
  std::int64_t user_count = 0;
  // Set while ignored with that condition (0 = none); counts are what is left until it re-surfaces.
  std::int64_t ignore_until_ms = 0;
  std::int64_t ignore_count_left = 0;
  std::int64_t ignore_user_count_left = 0;
  std::int64_t assignee_id = 0;  // 0: unassigned
  std::string assignee_email;
  std::string assignee_name;
  std::string stats_json;  // {"24h": [[ts, count], ...]} when the list asked for stats; else omitted
};

struct EventRow {
  std::string event_id;  // 32 hex
  std::int64_t issue_id = 0;
  std::int64_t project_id = 0;
  std::string title;
  std::string culprit;
  std::string platform;
  std::string level;
  std::string environment;
  std::string release;
  std::string sdk_name;
  std::string sdk_version;
  std::string client_ip;
  std::int64_t timestamp_ms = 0;
  std::int64_t received_ms = 0;
  std::string data_json;  // the stored event
  // The issue's events before and after this one by received time, for a single event's answer
  // (previousEventID, nextEventID: null at the ends); the lists leave them out.
  bool with_neighbours = false;
  std::optional<std::string> previous_event_id;
  std::optional<std::string> next_event_id;
};

/// One issue, as /api/0/issues/{id}/ and the issue list show it.
std::string SerializeIssue(const IssueRow& issue, const std::string& public_url);
/// One event with its interfaces as `entries`, as /api/0/issues/{id}/events/latest/ shows it.
std::string SerializeEvent(const EventRow& event);

}  // namespace rookery::web
