#include "alert_rules.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "rookery/core/strings.hpp"

namespace rookery::cron {

int LevelRank(std::string_view level) {
  constexpr std::array<std::string_view, 5> kLevels = {"debug", "info", "warning", "error", "fatal"};
  for (std::size_t i = 0; i < kLevels.size(); ++i) {
    if (kLevels[i] == level) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool RuleFires(const AlertRule& rule, const Trigger& trigger) {
  const bool covered = (trigger.kind == "new" && rule.on_new) || (trigger.kind == "regression" && rule.on_regression) ||
                       (trigger.kind == "resurfaced" && rule.on_resurfaced) ||
                       (trigger.kind == "frequency" && rule.frequency_count.has_value());
  if (!covered) return false;
  if (!rule.min_level.empty() && LevelRank(trigger.level) < LevelRank(rule.min_level)) return false;
  if (!rule.environment.empty() && trigger.environment != rule.environment) return false;
  return std::all_of(rule.tag_filters.begin(), rule.tag_filters.end(), [&trigger](const auto& wanted) {
    return std::find(trigger.tags.begin(), trigger.tags.end(), wanted) != trigger.tags.end();
  });
}

std::vector<std::string> RuleChannels(const AlertRule& rule, const std::vector<std::string>& member_emails) {
  std::vector<std::string> channels;
  const auto add_email = [&channels](const std::string& address) {
    if (address.empty()) return;
    const bool seen = std::any_of(channels.begin(), channels.end(), [&address](const std::string& channel) {
      return EqualsIgnoreCase(std::string_view(channel).substr(6), address);
    });
    // One channel per mailbox however a rule spells it, so the digest window holds across rules.
    std::string lowered = address;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!seen) channels.push_back("email:" + lowered);
  };
  if (rule.email_members) {
    for (const auto& address : member_emails) add_email(address);
  }
  for (const auto& address : rule.email_addresses) add_email(address);
  if (!rule.webhook_url.empty()) channels.push_back("webhook:" + std::to_string(rule.id));
  if (!rule.slack_url.empty()) channels.push_back("slack:" + std::to_string(rule.id));
  return channels;
}

TagPairs ParseTagObject(std::string_view json) {
  TagPairs pairs;
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) return pairs;
  for (const auto& member : document.GetObject()) {
    if (!member.value.IsString()) continue;
    pairs.emplace_back(std::string(member.name.GetString(), member.name.GetStringLength()),
                       std::string(member.value.GetString(), member.value.GetStringLength()));
  }
  return pairs;
}

}  // namespace rookery::cron
