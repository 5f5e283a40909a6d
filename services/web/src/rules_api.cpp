#include "rules_api.hpp"

#include <spdlog/spdlog.h>

#include <rapidjson/document.h>
#include <algorithm>
#include <map>
#include <pqxx/pqxx>

#include "api_util.hpp"
#include "issue_search.hpp"
#include "issues_api.hpp"
#include "rookery/core/time.hpp"
#include "rookery/http/response.hpp"

namespace rookery::web {
namespace {

namespace bhttp = boost::beast::http;
using Value = rapidjson::Value;

constexpr std::size_t kMaxBodyBytes = 64 * 1024;
constexpr std::size_t kMaxItems = 20;  // conditions, filters and actions each
constexpr std::size_t kMaxUrlChars = 2048;

constexpr std::string_view kFirstSeen = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition";
constexpr std::string_view kRegression = "sentry.rules.conditions.regression_event.RegressionEventCondition";
constexpr std::string_view kReappeared = "sentry.rules.conditions.reappeared_event.ReappearedEventCondition";
constexpr std::string_view kFrequency = "sentry.rules.conditions.event_frequency.EventFrequencyCondition";
constexpr std::string_view kLevelFilter = "sentry.rules.filters.level.LevelFilter";
constexpr std::string_view kTaggedFilter = "sentry.rules.filters.tagged_event.TaggedEventFilter";
constexpr std::string_view kEmailAction = "sentry.mail.actions.NotifyEmailAction";
constexpr std::string_view kServiceAction = "sentry.rules.actions.notify_event_service.NotifyEventServiceAction";
constexpr std::string_view kSlackAction = "sentry.integrations.slack.notify_action.SlackNotifyServiceAction";

constexpr const char* kProjectForMember = "rules_api_project_for_member";
constexpr const char* kListRules = "rules_api_list";
constexpr const char* kInsertRule = "rules_api_insert";
constexpr const char* kUpdateRule = "rules_api_update";
constexpr const char* kDeleteRule = "rules_api_delete";
constexpr const char* kMemberEmail = "rules_api_member_email";

constexpr const char* kRuleColumns =
    "SELECT id, name, enabled, on_new, on_regression, on_resurfaced, coalesce(frequency_count, 0), "
    "coalesce(frequency_minutes, 0), coalesce(min_level, ''), coalesce(environment, ''), tag_filters::text, "
    "email_members, array_to_json(email_addresses)::text, coalesce(webhook_url, ''), webhook_secret IS NOT NULL, "
    "coalesce(slack_url, ''), (extract(epoch FROM created_at) * 1000)::bigint FROM alert_rules ";

// Sentry's numeric levels.
const std::map<std::string, std::string, std::less<>> kLevelNames = {
    {"10", "debug"}, {"20", "info"}, {"30", "warning"}, {"40", "error"}, {"50", "fatal"}};
// EventFrequencyCondition's intervals, in minutes.
const std::vector<std::pair<std::string, int>> kIntervals = {{"1m", 1},  {"5m", 5},    {"15m", 15},
                                                             {"1h", 60}, {"1d", 1440}, {"1w", 10080}};

std::string StringOf(const Value& object, const char* key) {
  const auto it = object.FindMember(key);
  if (it == object.MemberEnd()) return "";
  if (it->value.IsString()) return {it->value.GetString(), it->value.GetStringLength()};
  if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
  return "";
}

bool HasControlOrSpace(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

bool ValidUrl(std::string_view url) {
  if (url.size() > kMaxUrlChars || HasControlOrSpace(url)) return false;
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return false;
  }
  const auto host_end = rest.find_first_of("/?#");
  return host_end != 0 && !rest.empty();
}

// Goes into a mail header: one plain address, nothing that could start another header or address.
bool ValidEmail(std::string_view email) {
  const auto at = email.find('@');
  return email.size() <= 254 && at != std::string_view::npos && at > 0 && at + 1 < email.size() &&
         email.find('@', at + 1) == std::string_view::npos && !HasControlOrSpace(email) &&
         email.find_first_of(",;<>\"()[]\\") == std::string_view::npos;
}

std::string ParseCondition(const Value& item, const std::string& id, RuleSpec& out) {
  if (id == kFirstSeen) {
    out.on_new = true;
  } else if (id == kRegression) {
    out.on_regression = true;
  } else if (id == kReappeared) {
    out.on_resurfaced = true;
  } else if (id == kFrequency) {
    if (out.frequency_count > 0) return "conditions: at most one EventFrequencyCondition";
    const auto value = item.FindMember("value");
    std::int64_t count = 0;
    if (value != item.MemberEnd() && value->value.IsInt64()) {
      count = value->value.GetInt64();
    } else if (value != item.MemberEnd() && value->value.IsString()) {
      count = std::atoll(value->value.GetString());
    }
    if (count < 1 || count > 1'000'000) return "conditions: EventFrequencyCondition value must be 1 to 1000000";
    const std::string interval = StringOf(item, "interval");
    const auto found = std::find_if(kIntervals.begin(), kIntervals.end(),
                                    [&interval](const auto& known) { return known.first == interval; });
    if (found == kIntervals.end())
      return "conditions: EventFrequencyCondition interval must be 1m, 5m, 15m, 1h, 1d or 1w";
    out.frequency_count = static_cast<int>(count);
    out.frequency_minutes = found->second;
  } else {
    return "";  // not a condition; the caller tries filters
  }
  return "ok";
}

std::string ParseFilter(const Value& item, const std::string& id, RuleSpec& out) {
  if (id == kLevelFilter) {
    const std::string match = StringOf(item, "match");
    if (match != "gte") return "filters: LevelFilter supports match \"gte\" only";
    std::string level = StringOf(item, "level");
    if (const auto it = kLevelNames.find(level); it != kLevelNames.end()) level = it->second;
    if (level != "debug" && level != "info" && level != "warning" && level != "error" && level != "fatal") {
      return "filters: LevelFilter level must be 10, 20, 30, 40 or 50";
    }
    out.min_level = level;
  } else if (id == kTaggedFilter) {
    const std::string key = StringOf(item, "key");
    const std::string value = StringOf(item, "value");
    const std::string match = StringOf(item, "match");
    if (match != "eq") return "filters: TaggedEventFilter supports match \"eq\" only";
    if (key.empty() || value.empty() || key.size() > 200 || value.size() > 200) {
      return "filters: TaggedEventFilter needs a key and a value (at most 200 characters)";
    }
    for (const auto& [k, v] : out.tag_filters) {
      if (k == key && v != value) return "filters: two TaggedEventFilters on \"" + key + "\" can never both hold";
    }
    out.tag_filters.emplace_back(key, value);
  } else {
    return "";
  }
  return "ok";
}

std::string ParseAction(const Value& item, const std::string& id, RuleSpec& out) {
  if (id == kEmailAction) {
    const std::string type = StringOf(item, "targetType");
    const std::string target = StringOf(item, "targetIdentifier");
    if (target.find('@') != std::string::npos) {
      if (!ValidEmail(target)) return "actions: \"" + target + "\" is not an email address";
      out.email_addresses.push_back(target);
    } else if (type == "Member" && !target.empty()) {
      if (target.find_first_not_of("0123456789") != std::string::npos) {
        return "actions: NotifyEmailAction targetIdentifier must be a user id or an email address";
      }
      out.member_ids.push_back(target);
    } else if (type == "IssueOwners" || type == "Team" || type == "Member") {
      out.email_members = true;
    } else {
      return "actions: NotifyEmailAction targetType must be IssueOwners, Team or Member";
    }
  } else if (id == kServiceAction) {
    if (!out.webhook_url.empty()) return "actions: at most one webhook action";
    const std::string service = StringOf(item, "service");
    if (!service.empty() && service != "webhooks") return "actions: NotifyEventServiceAction service must be webhooks";
    out.webhook_url = StringOf(item, "url");
    if (!ValidUrl(out.webhook_url)) return "actions: the webhook url must be an http or https URL";
    if (const auto secret = item.FindMember("secret"); secret != item.MemberEnd()) {
      if (!secret->value.IsString() && !secret->value.IsNull()) return "actions: the webhook secret must be a string";
      out.webhook_secret = secret->value.IsString() ? secret->value.GetString() : "";
      if (out.webhook_secret.size() > 256) return "actions: the webhook secret is at most 256 characters";
      out.webhook_secret_given = true;
    }
  } else if (id == kSlackAction) {
    if (!out.slack_url.empty()) return "actions: at most one Slack action";
    out.slack_url = StringOf(item, "webhookUrl");
    if (!ValidUrl(out.slack_url)) return "actions: the Slack webhookUrl must be an http or https URL";
  } else {
    return "actions: unknown action \"" + id + "\"";
  }
  return "";
}

std::string JsonString(std::string_view text) {
  return http::JsonQuote(text);
}

std::string RuleJson(const pqxx::row& r, const std::string& project_slug) {
  const std::string id = r[0].as<std::string>();
  std::string conditions;
  const auto add = [](std::string& list, const std::string& item) { list += (list.empty() ? "" : ",") + item; };
  if (r[3].as<bool>()) add(conditions, "{\"id\":" + JsonString(kFirstSeen) + ",\"name\":\"A new issue is created\"}");
  if (r[4].as<bool>()) {
    add(conditions,
        "{\"id\":" + JsonString(kRegression) + ",\"name\":\"The issue changes state from resolved to unresolved\"}");
  }
  if (r[5].as<bool>()) {
    add(conditions,
        "{\"id\":" + JsonString(kReappeared) + ",\"name\":\"The issue changes state from ignored to unresolved\"}");
  }
  if (const int count = r[6].as<int>(); count > 0) {
    const int minutes = r[7].as<int>();
    std::string interval = std::to_string(minutes) + "m";
    for (const auto& [name, known] : kIntervals) {
      if (known == minutes) interval = name;
    }
    add(conditions, "{\"id\":" + JsonString(kFrequency) + ",\"value\":" + std::to_string(count) +
                        ",\"interval\":" + JsonString(interval) + ",\"name\":\"The issue is seen more than " +
                        std::to_string(count) + " times in " + interval + "\"}");
  }
  std::string filters;
  if (const std::string level = r[8].as<std::string>(); !level.empty()) {
    std::string number = level;
    for (const auto& [n, name] : kLevelNames) {
      if (name == level) number = n;
    }
    add(filters, "{\"id\":" + JsonString(kLevelFilter) + ",\"match\":\"gte\",\"level\":" + JsonString(number) +
                     ",\"name\":\"The event's level is greater than or equal to " + level + "\"}");
  }
  rapidjson::Document tags;
  tags.Parse(r[10].as<std::string>().c_str());
  if (!tags.HasParseError() && tags.IsObject()) {
    for (const auto& member : tags.GetObject()) {
      if (!member.value.IsString()) continue;
      add(filters, "{\"id\":" + JsonString(kTaggedFilter) + ",\"key\":" + JsonString(member.name.GetString()) +
                       ",\"match\":\"eq\",\"value\":" + JsonString(member.value.GetString()) + "}");
    }
  }
  std::string actions;
  if (r[11].as<bool>()) {
    add(actions, "{\"id\":" + JsonString(kEmailAction) +
                     ",\"targetType\":\"IssueOwners\",\"targetIdentifier\":null,"
                     "\"name\":\"Send a notification to the project's team\"}");
  }
  rapidjson::Document addresses;
  addresses.Parse(r[12].as<std::string>().c_str());
  if (!addresses.HasParseError() && addresses.IsArray()) {
    for (const auto& address : addresses.GetArray()) {
      if (!address.IsString()) continue;
      add(actions, "{\"id\":" + JsonString(kEmailAction) +
                       ",\"targetType\":\"Member\",\"targetIdentifier\":" + JsonString(address.GetString()) +
                       ",\"name\":\"Send a notification to " + std::string(address.GetString()) + "\"}");
    }
  }
  if (const std::string url = r[13].as<std::string>(); !url.empty()) {
    add(actions, "{\"id\":" + JsonString(kServiceAction) + ",\"service\":\"webhooks\",\"url\":" + JsonString(url) +
                     ",\"hasSecret\":" + (r[14].as<bool>() ? "true" : "false") + "}");
  }
  if (const std::string url = r[15].as<std::string>(); !url.empty()) {
    add(actions, "{\"id\":" + JsonString(kSlackAction) + ",\"webhookUrl\":" + JsonString(url) + "}");
  }
  const std::string environment = r[9].as<std::string>();
  return "{\"id\":" + JsonString(id) + ",\"name\":" + JsonString(r[1].as<std::string>()) +
         ",\"status\":" + (r[2].as<bool>() ? "\"active\"" : "\"disabled\"") +
         ",\"actionMatch\":\"any\",\"filterMatch\":\"all\",\"frequency\":30,\"environment\":" +
         (environment.empty() ? "null" : JsonString(environment)) + ",\"conditions\":[" + conditions +
         "],\"filters\":[" + filters + "],\"actions\":[" + actions + "],\"projects\":[" + JsonString(project_slug) +
         "],\"owner\":null,\"createdBy\":null,\"dateCreated\":" +
         JsonString(FormatIso8601Millis(r[16].as<std::int64_t>())) + "}";
}

std::string TagFiltersJson(const RuleSpec& spec) {
  std::string json = "{";
  for (std::size_t i = 0; i < spec.tag_filters.size(); ++i) {
    json += (i > 0 ? "," : "") + JsonString(spec.tag_filters[i].first) + ":" + JsonString(spec.tag_filters[i].second);
  }
  return json + "}";
}

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += (i > 0 ? ",\"" : "\"");
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

}  // namespace

std::string ParseRuleSpec(std::string_view body, RuleSpec& out) {
  if (body.size() > kMaxBodyBytes) return "The request body is too large";
  rapidjson::Document doc;
  if (std::string error; !ParseBody(body, doc, error)) return error;
  const auto name = doc.FindMember("name");
  if (name == doc.MemberEnd() || !name->value.IsString() || name->value.GetStringLength() == 0 ||
      name->value.GetStringLength() > 256) {
    return "name: This field is required (at most 256 characters).";
  }
  out.name = name->value.GetString();
  if (const auto env = doc.FindMember("environment"); env != doc.MemberEnd() && !env->value.IsNull()) {
    if (!env->value.IsString() || env->value.GetStringLength() > 64) return "environment: must be a name or null";
    out.environment = env->value.GetString();
  }
  if (const auto status = doc.FindMember("status"); status != doc.MemberEnd()) {
    const std::string text = status->value.IsString() ? status->value.GetString() : "";
    if (text != "active" && text != "disabled") return "status: must be active or disabled";
    out.enabled = text == "active";
  }
  std::size_t condition_count = 0;
  for (const char* list : {"conditions", "filters", "actions"}) {
    const auto member = doc.FindMember(list);
    if (member == doc.MemberEnd() || member->value.IsNull()) continue;
    if (!member->value.IsArray()) return std::string(list) + ": must be a list";
    if (member->value.Size() > kMaxItems) return std::string(list) + ": at most 20 items";
    for (const auto& item : member->value.GetArray()) {
      if (!item.IsObject()) return std::string(list) + ": every item must be an object with an id";
      const std::string id = StringOf(item, "id");
      std::string result;
      if (std::string_view(list) == "actions") {
        result = ParseAction(item, id, out);
        if (!result.empty()) return result;
        continue;
      }
      // Sentry's older clients send filters among the conditions: both lists take both.
      result = ParseCondition(item, id, out);
      if (result == "ok") {
        ++condition_count;
        continue;
      }
      if (!result.empty()) return result;
      result = ParseFilter(item, id, out);
      if (result == "ok") continue;
      if (!result.empty()) return result;
      return std::string(list) + ": unknown " + (std::string_view(list) == "filters" ? "filter" : "condition") + " \"" +
             id + "\"";
    }
  }
  if (condition_count == 0) return "conditions: at least one condition is required";
  bool storable = IsStorableText(out.name) && IsStorableText(out.environment) && IsStorableText(out.webhook_secret);
  for (const auto& [key, value] : out.tag_filters) storable = storable && IsStorableText(key) && IsStorableText(value);
  if (!storable) return "Text fields must not contain NUL characters";
  if (!out.email_members && out.email_addresses.empty() && out.member_ids.empty() && out.webhook_url.empty() &&
      out.slack_url.empty()) {
    return "actions: at least one action is required";
  }
  // Cron fires a rule when any trigger happens and every filter holds.
  if (const auto match = doc.FindMember("actionMatch"); match != doc.MemberEnd() && !match->value.IsNull()) {
    const std::string text = match->value.IsString() ? match->value.GetString() : "";
    if (text != "any" && !(text == "all" && condition_count == 1)) {
      return "actionMatch: only \"any\" is supported (\"all\" with a single condition)";
    }
  }
  if (const auto match = doc.FindMember("filterMatch"); match != doc.MemberEnd() && !match->value.IsNull()) {
    const std::string text = match->value.IsString() ? match->value.GetString() : "";
    if (text != "all" && !(text == "any" && out.tag_filters.size() + (out.min_level.empty() ? 0 : 1) <= 1)) {
      return "filterMatch: only \"all\" is supported";
    }
  }
  if (const auto frequency = doc.FindMember("frequency"); frequency != doc.MemberEnd() && !frequency->value.IsNull()) {
    if (!frequency->value.IsInt64() || frequency->value.GetInt64() < 5 || frequency->value.GetInt64() > 43200) {
      return "frequency: must be 5 to 43200 minutes";
    }
  }
  return "";
}

void PrepareRulesApi(pqxx::connection& c) {
  c.prepare(kProjectForMember,
            "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id "
            "JOIN organization_members m ON m.organization_id = o.id AND m.user_id = $3 "
            "WHERE o.slug = $1 AND p.slug = $2");
  c.prepare(kListRules, std::string(kRuleColumns) + "WHERE project_id = $1 AND ($2 = 0 OR id = $2) ORDER BY id");
  c.prepare(kInsertRule,
            "INSERT INTO alert_rules (project_id, name, enabled, on_new, on_regression, on_resurfaced, "
            "frequency_count, frequency_minutes, min_level, environment, tag_filters, email_members, "
            "email_addresses, webhook_url, webhook_secret, slack_url) VALUES ($1, $2, $3, $4, $5, $6, "
            "NULLIF($7, 0), NULLIF($8, 0), NULLIF($9, ''), NULLIF($10, ''), $11::jsonb, $12, $13::text[], "
            "NULLIF($14, ''), NULLIF($15, ''), NULLIF($16, '')) RETURNING id");
  c.prepare(kUpdateRule,
            "UPDATE alert_rules SET name = $3, enabled = $4, on_new = $5, on_regression = $6, on_resurfaced = $7, "
            "frequency_count = NULLIF($8, 0), frequency_minutes = NULLIF($9, 0), min_level = NULLIF($10, ''), "
            "environment = NULLIF($11, ''), tag_filters = $12::jsonb, email_members = $13, "
            "email_addresses = $14::text[], "
            "webhook_secret = CASE WHEN $18 OR webhook_url IS DISTINCT FROM NULLIF($15, '') "
            "THEN NULLIF($16, '') ELSE webhook_secret END, "
            "webhook_url = NULLIF($15, ''), slack_url = NULLIF($17, '') "
            "WHERE project_id = $1 AND id = $2 RETURNING id");
  c.prepare(kDeleteRule, "DELETE FROM alert_rules WHERE project_id = $1 AND id = $2 RETURNING id");
  c.prepare(kMemberEmail,
            "SELECT u.email FROM users u JOIN organization_members m ON m.user_id = u.id "
            "JOIN projects p ON p.organization_id = m.organization_id WHERE p.id = $1 AND u.id::text = $2");
}

http::Response HandleRulesApi(pqxx::connection& connection, const Route& route, const http::Request& request,
                              const Caller& caller) {
  const auto method = request.method();
  const bool writes = method != bhttp::verb::get;
  pqxx::work tx(connection);
  // Another organization's project does not exist for the caller, whatever the body says: the
  // lookup comes before any answer about the request itself.
  const auto project = tx.exec_prepared(kProjectForMember, route.org_slug, route.project_slug, caller.user_id);
  if (project.empty()) {
    return http::MakeErrorResponse(http::Status::not_found, "The requested resource does not exist");
  }
  if (writes && !caller.HasAny({"project:write", "project:admin", "org:write", "org:admin"})) {
    return http::MakeErrorResponse(http::Status::forbidden, "You do not have permission to perform this action.");
  }
  RuleSpec spec;
  if (method == bhttp::verb::post || method == bhttp::verb::put) {
    if (auto error = ParseRuleSpec(request.body(), spec); !error.empty()) {
      return http::MakeErrorResponse(http::Status::bad_request, error);
    }
  }
  const auto project_id = project[0][0].as<std::int64_t>();
  for (const auto& member_id : spec.member_ids) {
    const auto email = tx.exec_prepared(kMemberEmail, project_id, member_id);
    if (email.empty()) {
      return http::MakeErrorResponse(http::Status::bad_request,
                                     "actions: user " + member_id + " is not a member of this organization");
    }
    spec.email_addresses.push_back(email[0][0].as<std::string>());
  }
  std::sort(spec.email_addresses.begin(), spec.email_addresses.end());
  spec.email_addresses.erase(std::unique(spec.email_addresses.begin(), spec.email_addresses.end()),
                             spec.email_addresses.end());

  std::int64_t rule_id = route.rule_id;
  if (method == bhttp::verb::post) {
    rule_id =
        tx.exec_prepared1(kInsertRule, project_id, spec.name, spec.enabled, spec.on_new, spec.on_regression,
                          spec.on_resurfaced, spec.frequency_count, spec.frequency_minutes, spec.min_level,
                          spec.environment, TagFiltersJson(spec), spec.email_members, TextArray(spec.email_addresses),
                          spec.webhook_url, spec.webhook_secret, spec.slack_url)[0]
            .as<std::int64_t>();
    spdlog::info("alert rule {} created for project {}", rule_id, project_id);
  } else if (method == bhttp::verb::put) {
    if (tx.exec_prepared(kUpdateRule, project_id, rule_id, spec.name, spec.enabled, spec.on_new, spec.on_regression,
                         spec.on_resurfaced, spec.frequency_count, spec.frequency_minutes, spec.min_level,
                         spec.environment, TagFiltersJson(spec), spec.email_members, TextArray(spec.email_addresses),
                         spec.webhook_url, spec.webhook_secret, spec.slack_url, spec.webhook_secret_given)
            .empty()) {
      return http::MakeErrorResponse(http::Status::not_found, "The requested resource does not exist");
    }
  } else if (method == bhttp::verb::delete_) {
    if (tx.exec_prepared(kDeleteRule, project_id, rule_id).empty()) {
      return http::MakeErrorResponse(http::Status::not_found, "The requested resource does not exist");
    }
    tx.commit();
    return http::MakeResponse(http::Status::accepted, "", "application/json");
  }
  const auto rows = tx.exec_prepared(kListRules, project_id,
                                     route.endpoint == Endpoint::kProjectRule || writes ? rule_id : std::int64_t{0});
  tx.commit();
  if (route.endpoint == Endpoint::kProjectRule || writes) {
    if (rows.empty()) return http::MakeErrorResponse(http::Status::not_found, "The requested resource does not exist");
    return http::MakeJsonResponse(method == bhttp::verb::post ? http::Status::created : http::Status::ok,
                                  RuleJson(rows[0], route.project_slug));
  }
  std::string body = "[";
  for (std::size_t i = 0; i < rows.size(); ++i) body += (i > 0 ? "," : "") + RuleJson(rows[i], route.project_slug);
  return http::MakeJsonResponse(http::Status::ok, body + "]");
}

}  // namespace rookery::web
