// Alert rules in the shape of Sentry's project rules API (conditions, filters and actions named by
// Sentry's class paths), stored in alert_rules, which cron reads for every activity.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/connection>

#include "rookery/http/server.hpp"
#include "router.hpp"

namespace rookery::web {

struct Caller;

/// alert_rules' columns, as a request body sets them.
struct RuleSpec {
  std::string name;
  bool enabled = true;
  bool on_new = false;
  bool on_regression = false;
  bool on_resurfaced = false;
  int frequency_count = 0;  // 0: no frequency trigger
  int frequency_minutes = 0;
  std::string min_level;    // empty: any
  std::string environment;  // empty: any
  std::vector<std::pair<std::string, std::string>> tag_filters;
  bool email_members = false;
  std::vector<std::string> email_addresses;
  std::vector<std::string> member_ids;  // NotifyEmailAction targetType Member by user id: resolved to addresses
  std::string webhook_url;
  std::string webhook_secret;
  bool webhook_secret_given = false;  // absent on PUT: the stored secret is kept (GET never shows it)
  std::string slack_url;
};

/// Parses a Sentry rule body. Returns an error message for a 400 (naming unknown condition, filter
/// and action ids), or empty.
std::string ParseRuleSpec(std::string_view body, RuleSpec& out);

void PrepareRulesApi(pqxx::connection& connection);
http::Response HandleRulesApi(pqxx::connection& connection, const Route& route, const http::Request& request,
                              const Caller& caller);

}  // namespace rookery::web
