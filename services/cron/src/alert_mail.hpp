// The text of alert mail: one issue, or a digest of several for the same project. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rookery::cron {

struct AlertedIssue {
  std::string short_id;  // "BACKEND-12"
  std::string title;
  std::string culprit;
  std::string level;
  std::string reason;  // "new", "regression", "resurfaced", "frequency"
  std::int64_t times_seen = 0;
  std::int64_t user_count = 0;
  std::string url;                 // the issue in the web UI
  std::vector<std::string> stack;  // the first lines of the latest event's stack trace, newest frame first
};

struct AlertMail {
  std::string subject;
  std::string text;
  std::string html;
};

/// `unsubscribe_url` may be empty (no secret configured): the footer then points at the settings.
AlertMail ComposeAlertMail(std::string_view project_slug, const std::vector<AlertedIssue>& issues,
                           std::string_view unsubscribe_url, std::string_view settings_url);

/// Up to `max_lines` frames of the newest exception in a stored event, newest first, as
/// "module.function in file:line"; empty when the event has no stack trace.
std::vector<std::string> StackPreview(std::string_view event_json, std::size_t max_lines = 5);

/// What a reason reads as in a subject line.
std::string_view ReasonHeadline(std::string_view reason);

}  // namespace rookery::cron
