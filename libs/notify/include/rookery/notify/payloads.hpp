// rookery::notify — the JSON bodies of alert webhooks: Slack's incoming-webhook format and
// Rookery's own. Pure functions: the same alert always gives the same bytes, so a retried delivery
// carries the same body. Text is made valid UTF-8 first; JSON with broken strings is refused by
// most receivers, and an event's title can hold anything.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rookery::notify {

struct IssueAlert {
  /// Stable id of this notification (the same for its retries); receivers deduplicate on it.
  std::string alert_id;
  /// Why it fired, e.g. "new_issue", "regression", "frequency".
  std::string trigger;
  std::string project;  // the project's slug
  std::int64_t issue_id = 0;
  std::string short_id;  // "BACKEND-1A", optional
  std::string title;
  std::string culprit;
  std::string level;       // "error", "warning", …
  std::int64_t count = 0;  // events seen
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::string url;  // the issue in Rookery's web UI; links are left out when empty
};

/// Slack incoming-webhook JSON: a "text" fallback (notifications, old clients) and "blocks" with
/// the title, the culprit, the project, the count, the level and a button to the issue. Slack's
/// per-field limits are respected (header text 150 characters, section text 3000).
std::string SlackPayload(const IssueAlert& alert);

/// Rookery's generic alert JSON, version 1:
/// {"version":1,"type":"issue.alert","alert_id":…,"trigger":…,"project":…,
///  "issue":{"id":…,"short_id":…,"title":…,"culprit":…,"level":…,"count":…,
///           "first_seen":"<ISO 8601>","last_seen":"<ISO 8601>","url":…}}
std::string GenericAlertPayload(const IssueAlert& alert);

/// Escapes '&', '<' and '>' as Slack's mrkdwn requires for text that is not markup.
std::string EscapeSlackText(std::string_view text);

}  // namespace rookery::notify
