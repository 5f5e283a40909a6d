// Which alert rules fire for an issue's transition, and whom they reach. Pure: cron loads rules
// and members from PostgreSQL and hands them here, so the matching is unit-tested without I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rookery::cron {

using TagPairs = std::vector<std::pair<std::string, std::string>>;

struct AlertRule {
  std::int64_t id = 0;
  std::int64_t project_id = 0;
  bool on_new = false;
  bool on_regression = false;
  bool on_resurfaced = false;
  std::optional<int> frequency_count;    // fires when seen more than this many times ...
  std::optional<int> frequency_minutes;  // ... within this many minutes
  std::string min_level;                 // empty: any level
  std::string environment;               // empty: any environment
  TagPairs tag_filters;                  // every pair must be among the event's tags
  bool email_members = false;
  std::vector<std::string> email_addresses;
  std::string webhook_url;
  std::string webhook_secret;
  std::string slack_url;
};

/// What happened, with the facts filters look at.
struct Trigger {
  std::string kind;  // "new", "regression", "resurfaced" or "frequency"
  std::string level;
  std::string environment;
  TagPairs tags;
};

/// fatal > error > warning > info > debug; unknown levels rank lowest.
int LevelRank(std::string_view level);

/// The rule's trigger covers `trigger.kind` and every filter holds.
bool RuleFires(const AlertRule& rule, const Trigger& trigger);

/// Where the rule's actions go, each once: "email:<address, lower-cased>" (the members' addresses,
/// then the rule's own), "webhook:<rule id>", "slack:<rule id>".
std::vector<std::string> RuleChannels(const AlertRule& rule, const std::vector<std::string>& member_emails);

/// {"key": "value", ...} as stored in alert_rules.tag_filters / issue_activities.tags; non-string
/// values are skipped, and anything but an object yields no pairs.
TagPairs ParseTagObject(std::string_view json);

}  // namespace rookery::cron
