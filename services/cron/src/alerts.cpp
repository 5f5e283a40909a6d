#include "alerts.hpp"

#include <spdlog/spdlog.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <algorithm>
#include <atomic>
#include <map>
#include <pqxx/pqxx>
#include <set>

#include "account_mail.hpp"
#include "alert_mail.hpp"
#include "alert_rules.hpp"
#include "rookery/core/env.hpp"
#include "rookery/core/md5.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/db/event_payload.hpp"
#include "rookery/notify/payloads.hpp"
#include "rookery/notify/unsubscribe.hpp"

namespace rookery::cron {
namespace {

constexpr const char* kPendingActivities = "alerts_pending_activities";
constexpr const char* kProjectRules = "alerts_project_rules";
constexpr const char* kProjectRecipients = "alerts_project_recipients";
constexpr const char* kAddNotification = "alerts_add_notification";
constexpr const char* kMarkDispatched = "alerts_mark_dispatched";
constexpr const char* kFrequencyRules = "alerts_frequency_rules";
constexpr const char* kFrequentIssues = "alerts_frequent_issues";
constexpr const char* kWaitingChannels = "alerts_waiting_channels";
constexpr const char* kRecipientEnabled = "alerts_recipient_enabled";
constexpr const char* kSuppressChannel = "alerts_suppress_channel";
constexpr const char* kLockWaiting = "alerts_lock_waiting";
constexpr const char* kRecentlyDelivered = "alerts_recently_delivered";
constexpr const char* kSuppress = "alerts_suppress";
constexpr const char* kAddDelivery = "alerts_add_delivery";
constexpr const char* kAssign = "alerts_assign";
constexpr const char* kDueDeliveries = "alerts_due_deliveries";
constexpr const char* kDeliveryIssues = "alerts_delivery_issues";
constexpr const char* kLatestEvent = "alerts_latest_event";
constexpr const char* kRuleTarget = "alerts_rule_target";
constexpr const char* kUserByEmail = "alerts_user_by_email";
constexpr const char* kMarkSent = "alerts_mark_sent";
constexpr const char* kMarkRetry = "alerts_mark_retry";
constexpr const char* kMarkFailed = "alerts_mark_failed";
constexpr const char* kCountPending = "alerts_count_pending";
constexpr const char* kExpireSnoozes = "alerts_expire_snoozes";
constexpr const char* kPruneHistory = "alerts_prune_history";

constexpr std::size_t kActivityBatch = 200;
constexpr std::size_t kStackIssues = 10;  // a digest shows stack traces for its first issues only

// Recipients, "the project's team": the members of the teams the project belongs to (all of the
// organization's members when it belongs to none), whose settings allow alert mail for it (a
// per-project setting wins over the user's global one; the default is on).
constexpr const char* kRecipientSql =
    "SELECT u.email FROM projects p "
    "JOIN organization_members m ON m.organization_id = p.organization_id JOIN users u ON u.id = m.user_id "
    "WHERE p.id = $1 "
    "AND (NOT EXISTS (SELECT 1 FROM project_teams pt WHERE pt.project_id = p.id) "
    "  OR EXISTS (SELECT 1 FROM project_teams pt JOIN team_members tm ON tm.team_id = pt.team_id "
    "             WHERE pt.project_id = p.id AND tm.user_id = u.id)) "
    "AND coalesce("
    "  (SELECT s.email_alerts FROM notification_settings s WHERE s.user_id = u.id AND s.project_id = p.id),"
    "  (SELECT s.email_alerts FROM notification_settings s WHERE s.user_id = u.id AND s.project_id IS NULL),"
    "  true) ORDER BY u.email";

void PrepareAll(pqxx::connection& c) {
  c.prepare(kPendingActivities,
            "SELECT id, project_id, issue_id, kind, level, environment, tags::text, event_id::text "
            "FROM issue_activities WHERE dispatched_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED");
  c.prepare(kProjectRules,
            "SELECT id, project_id, on_new, on_regression, on_resurfaced, frequency_count, frequency_minutes, "
            "coalesce(min_level, ''), coalesce(environment, ''), tag_filters::text, email_members, "
            "array_to_string(email_addresses, E'\\n'), coalesce(webhook_url, ''), coalesce(webhook_secret, ''), "
            "coalesce(slack_url, '') FROM alert_rules WHERE project_id = $1 AND enabled ORDER BY id");
  c.prepare(kProjectRecipients, kRecipientSql);
  c.prepare(kAddNotification,
            "INSERT INTO alert_notifications (project_id, issue_id, rule_id, channel, reason, event_id, dedupe_key) "
            "VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')::uuid, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id");
  c.prepare(kMarkDispatched, "UPDATE issue_activities SET dispatched_at = now() WHERE id = $1");
  c.prepare(kFrequencyRules,
            "SELECT DISTINCT project_id FROM alert_rules WHERE enabled AND frequency_count IS NOT NULL");
  // Events received in the last M minutes, per issue, in the rule's environment and at its level
  // or above. The bucket makes the dedupe key: one notification per rule, issue and window.
  c.prepare(kFrequentIssues,
            "SELECT e.issue_id, count(*) FROM events e "
            "JOIN issues i ON i.project_id = e.project_id AND i.id = e.issue_id AND i.status = 'unresolved' "
            "WHERE e.project_id = $1 AND e.received_at > now() - make_interval(mins => $2) "
            "AND e.day >= (now() - make_interval(mins => $2) - interval '31 days')::date "
            "AND ($3 = '' OR e.environment = $3) "
            "AND ($4 = '' OR coalesce(array_position(ARRAY['debug','info','warning','error','fatal'], e.level), 0) "
            "              >= array_position(ARRAY['debug','info','warning','error','fatal'], $4)) "
            // Every tag filter must hold for the event itself; SDKs send tags as an object or pairs.
            "AND NOT EXISTS (SELECT 1 FROM jsonb_each_text($6::jsonb) f WHERE NOT ("
            "  coalesce(e.tags, e.data->'tags')->>f.key = f.value OR "
            "  coalesce(coalesce(e.tags, e.data->'tags') @> jsonb_build_array(jsonb_build_array(f.key, f.value)), "
            "false))) "
            "GROUP BY e.issue_id HAVING count(*) > $5");
  c.prepare(kWaitingChannels,
            "SELECT n.project_id, n.channel, "
            "coalesce(extract(epoch FROM now() - (SELECT max(d.created_at) FROM alert_deliveries d "
            "  WHERE d.project_id = n.project_id AND d.channel = n.channel)), 1e12)::bigint "
            "FROM alert_notifications n WHERE n.delivery_id IS NULL AND NOT n.suppressed "
            "GROUP BY n.project_id, n.channel ORDER BY n.project_id, n.channel");
  // Whether the address may still be mailed about the project: not if it belongs to a user who
  // turned alerts off (for this project, or everywhere without a project exception).
  c.prepare(kRecipientEnabled,
            "SELECT NOT EXISTS (SELECT 1 FROM users u WHERE lower(u.email) = lower($2) AND NOT coalesce("
            "  (SELECT s.email_alerts FROM notification_settings s WHERE s.user_id = u.id AND s.project_id = $1),"
            "  (SELECT s.email_alerts FROM notification_settings s WHERE s.user_id = u.id AND s.project_id IS NULL),"
            "  true))");
  c.prepare(kSuppressChannel,
            "UPDATE alert_notifications SET suppressed = true "
            "WHERE project_id = $1 AND channel = $2 AND delivery_id IS NULL AND NOT suppressed");
  c.prepare(kLockWaiting,
            "SELECT id, issue_id, rule_id, reason FROM alert_notifications "
            "WHERE project_id = $1 AND channel = $2 AND delivery_id IS NULL AND NOT suppressed ORDER BY id FOR UPDATE");
  c.prepare(kRecentlyDelivered,
            "SELECT DISTINCT unnest(issue_ids) FROM alert_deliveries WHERE project_id = $1 AND channel = $2 "
            "AND created_at > now() - make_interval(secs => $3)");
  c.prepare(kSuppress, "UPDATE alert_notifications SET suppressed = true WHERE id = $1");
  c.prepare(kAddDelivery,
            "INSERT INTO alert_deliveries (project_id, rule_id, channel, issue_ids, reasons) "
            "VALUES ($1, $2, $3, string_to_array($4, ',')::bigint[], string_to_array($5, ',')) RETURNING id");
  c.prepare(kAssign, "UPDATE alert_notifications SET delivery_id = $1 WHERE id = $2");
  c.prepare(kDueDeliveries,
            "SELECT d.id, d.project_id, d.channel, array_to_string(d.issue_ids, ','), array_to_string(d.reasons, ','), "
            "d.attempts, coalesce(d.rule_id, 0), p.slug, o.slug FROM alert_deliveries d "
            "JOIN projects p ON p.id = d.project_id JOIN organizations o ON o.id = p.organization_id "
            "WHERE d.status = 'pending' AND d.next_attempt_at <= now() "
            // Mail first: a hanging webhook endpoint must not hold up the minute mail is promised in.
            "ORDER BY d.channel NOT LIKE 'email:%', d.id LIMIT 20");
  c.prepare(kDeliveryIssues,
            "SELECT id, short_id, title, culprit, level, times_seen, user_count FROM issues "
            "WHERE project_id = $1 AND id = $2");
  c.prepare(kLatestEvent,
            "SELECT data::text, payload FROM events WHERE project_id = $1 AND issue_id = $2 "
            "ORDER BY received_at DESC LIMIT 1");
  c.prepare(kRuleTarget,
            "SELECT coalesce(webhook_url, ''), coalesce(webhook_secret, ''), coalesce(slack_url, '') "
            "FROM alert_rules WHERE id = $1");
  c.prepare(kUserByEmail, "SELECT id FROM users WHERE lower(email) = lower($1)");
  c.prepare(kMarkSent,
            "UPDATE alert_deliveries SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL "
            "WHERE id = $1");
  c.prepare(kMarkRetry,
            "UPDATE alert_deliveries SET attempts = attempts + 1, last_error = $2, "
            "next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1");
  c.prepare(kMarkFailed,
            "UPDATE alert_deliveries SET status = 'failed', attempts = attempts + 1, last_error = $2 WHERE id = $1");
  c.prepare(kCountPending, "SELECT count(*) FROM alert_deliveries WHERE status = 'pending'");
  // An ignore whose time ran out ends even without a new event, so the issue lists show it again.
  // Like Sentry's periodic clean-up this only changes the status: the re-surfacing, with its
  // activity and alert, belongs to the next event. ignore_until stays as the mark the worker looks
  // for (the API clears it with any status change).
  // Alert history is kept 30 days, then pruned in bounded batches (a row each: no partition to drop).
  c.prepare(kPruneHistory,
            "WITH old_deliveries AS (DELETE FROM alert_deliveries WHERE id IN (SELECT id FROM alert_deliveries "
            "  WHERE status <> 'pending' AND created_at < now() - interval '30 days' LIMIT 1000) RETURNING id), "
            "old_notifications AS (DELETE FROM alert_notifications WHERE id IN (SELECT id FROM alert_notifications "
            "  WHERE (delivery_id IS NOT NULL OR suppressed) AND created_at < now() - interval '30 days' LIMIT 1000) "
            "  RETURNING id), "
            "old_activities AS (DELETE FROM issue_activities WHERE id IN (SELECT id FROM issue_activities "
            "  WHERE dispatched_at IS NOT NULL AND created_at < now() - interval '30 days' LIMIT 1000) RETURNING id) "
            "SELECT (SELECT count(*) FROM old_deliveries) + (SELECT count(*) FROM old_notifications) + "
            "(SELECT count(*) FROM old_activities)");
  c.prepare(kExpireSnoozes,
            "UPDATE issues SET status = 'unresolved', status_changed_at = now(), "
            "ignore_until_times_seen = NULL, ignore_until_user_count = NULL "
            "WHERE status = 'ignored' AND ignore_until IS NOT NULL AND ignore_until <= now()");
}

std::vector<std::string> SplitLines(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

AlertRule ReadRule(const pqxx::row& r) {
  AlertRule rule;
  rule.id = r[0].as<std::int64_t>();
  rule.project_id = r[1].as<std::int64_t>();
  rule.on_new = r[2].as<bool>();
  rule.on_regression = r[3].as<bool>();
  rule.on_resurfaced = r[4].as<bool>();
  if (!r[5].is_null()) rule.frequency_count = r[5].as<int>();
  if (!r[6].is_null()) rule.frequency_minutes = r[6].as<int>();
  rule.min_level = r[7].as<std::string>();
  rule.environment = r[8].as<std::string>();
  rule.tag_filters = ParseTagObject(r[9].as<std::string>());
  rule.email_members = r[10].as<bool>();
  rule.email_addresses = SplitLines(r[11].as<std::string>(), '\n');
  rule.webhook_url = r[12].as<std::string>();
  rule.webhook_secret = r[13].as<std::string>();
  rule.slack_url = r[14].as<std::string>();
  return rule;
}

std::vector<AlertRule> LoadRules(pqxx::transaction_base& tx, std::int64_t project_id) {
  std::vector<AlertRule> rules;
  for (const auto& row : tx.exec_prepared(kProjectRules, project_id)) rules.push_back(ReadRule(row));
  return rules;
}

std::vector<std::string> LoadRecipients(pqxx::transaction_base& tx, std::int64_t project_id) {
  std::vector<std::string> emails;
  for (const auto& row : tx.exec_prepared(kProjectRecipients, project_id)) emails.push_back(row[0].as<std::string>());
  return emails;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ",") + part;
  return out;
}

// Exponential from the base up to 10 minutes, or what the server asked for.
std::int64_t BackoffSeconds(int attempts, std::chrono::seconds base, const notify::SendError& error) {
  if (error.retry_after) return std::clamp<std::int64_t>(error.retry_after->count(), 1, 3600);
  return std::min<std::int64_t>(600, base.count() << std::min(attempts - 1, 6));
}

// "rookery.example.com" from "https://rookery.example.com:8443/x"; a placeholder when empty.
std::string HostOf(std::string_view url) {
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of(":/?#"));
  return url.empty() ? std::string("rookery.invalid") : std::string(url);
}

std::string TagObject(const TagPairs& tags) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  for (const auto& [key, value] : tags) {
    writer.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    writer.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  writer.EndObject();
  return buffer.GetString();
}

// Channels people read get digests (a broken deploy must not post thirty messages to a Slack
// channel either); generic webhooks feed machines and get every issue at once.
bool IsDigested(std::string_view channel) {
  return channel.starts_with("email:") || channel.starts_with("slack:");
}

// A Slack message listing a digest's issues (mrkdwn, escaped as Slack wants).
std::string SlackDigest(std::string_view project, const std::vector<AlertedIssue>& issues) {
  std::string text = std::to_string(issues.size()) + " issues in " + notify::EscapeSlackText(project) + ":";
  for (const AlertedIssue& issue : issues) {
    text += "\n• " + std::string(ReasonHeadline(issue.reason)) + ": <" + issue.url + "|" +
            notify::EscapeSlackText(TruncateUtf8(issue.short_id + " " + issue.title, 200)) + "> (" +
            std::to_string(issue.times_seen) + " events)";
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("text");
  writer.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
  writer.EndObject();
  return buffer.GetString();
}

bool IsEmailChannel(std::string_view channel) {
  return channel.starts_with("email:");
}

}  // namespace

AlertConfig AlertConfigFromEnv() {
  AlertConfig config;
  config.digest_window = std::chrono::seconds(EnvInt("ROOKERY_ALERT_DIGEST_WINDOW_SECONDS", 300, 1, 86400));
  config.frequency_interval = std::chrono::seconds(EnvInt("ROOKERY_ALERT_FREQUENCY_INTERVAL_SECONDS", 10, 1, 3600));
  config.max_attempts = static_cast<int>(EnvInt("ROOKERY_ALERT_MAX_ATTEMPTS", 10, 1, 1000));
  config.retry_base = std::chrono::seconds(EnvInt("ROOKERY_ALERT_RETRY_BASE_SECONDS", 10, 1, 3600));
  config.web_public_url = EnvString("ROOKERY_WEB_PUBLIC_URL", config.web_public_url);
  while (!config.web_public_url.empty() && config.web_public_url.back() == '/') config.web_public_url.pop_back();
  config.secret_key = EnvString("ROOKERY_SECRET_KEY", "");
  config.smtp = notify::SmtpConfigFromEnv();
  config.webhook = notify::WebhookConfigFromEnv();
  return config;
}

struct AlertEngine::State {
  AlertConfig config;
  notify::SmtpSender smtp;
  notify::WebhookSender webhooks;
  metrics::Family<metrics::Counter>& sent;
  metrics::Family<metrics::Counter>& failed;
  metrics::Family<metrics::Counter>& retried;
  metrics::Counter& notifications;
  std::atomic<std::int64_t> pending{0};
  // Message-IDs must be unique across installations (a staging and a production Rookery) yet the
  // same for a delivery's retries: the web URL's host, and a tag derived from this installation.
  std::string mail_domain;
  std::string installation_tag;
  std::chrono::steady_clock::time_point next_frequency{};

  State(AlertConfig c, metrics::Registry& registry)
      : config(std::move(c)),
        smtp(config.smtp),
        webhooks(config.webhook),
        sent(registry.AddCounter("rookery_cron_alerts_sent_total", "Alert messages delivered", {"channel"})),
        failed(registry.AddCounter("rookery_cron_alerts_failed_total", "Alert messages given up", {"channel"})),
        retried(registry.AddCounter("rookery_cron_alert_retries_total",
                                    "Alert deliveries that failed transiently and will be retried", {"channel"})),
        notifications(
            registry.AddCounter("rookery_cron_alert_notifications_total", "Issue notifications produced by alert rules")
                .With({})),
        mail_domain(HostOf(config.web_public_url)),
        installation_tag(Md5Hex(config.web_public_url + "\n" + config.secret_key).substr(0, 12)) {}

  std::size_t Dispatch(pqxx::connection& connection, AlertRound& round);
  void EvaluateFrequency(pqxx::connection& connection, AlertRound& round);
  void Batch(pqxx::connection& connection, AlertRound& round);
  void SendDue(pqxx::connection& connection, AlertRound& round);
  notify::SendError SendEmail(pqxx::connection& connection, const pqxx::row& delivery,
                              const std::vector<AlertedIssue>& issues, bool& ok);
  notify::SendError SendWebhook(pqxx::connection& connection, const pqxx::row& delivery,
                                const std::vector<AlertedIssue>& issues, const std::vector<std::int64_t>& ids,
                                bool& ok);
  std::string IssueUrl(const std::string& org, std::int64_t issue_id) const {
    return config.web_public_url + "/organizations/" + org + "/issues/" + std::to_string(issue_id) + "/";
  }
};

std::size_t AlertEngine::State::Dispatch(pqxx::connection& connection, AlertRound& round) {
  pqxx::work tx(connection);
  const auto activities = tx.exec_prepared(kPendingActivities, static_cast<std::int64_t>(kActivityBatch));
  std::map<std::int64_t, std::pair<std::vector<AlertRule>, std::vector<std::string>>> projects;
  for (const auto& activity : activities) {
    const auto activity_id = activity[0].as<std::int64_t>();
    const auto project_id = activity[1].as<std::int64_t>();
    const auto issue_id = activity[2].as<std::int64_t>();
    auto [it, inserted] = projects.try_emplace(project_id);
    if (inserted) it->second = {LoadRules(tx, project_id), LoadRecipients(tx, project_id)};
    const Trigger trigger{activity[3].as<std::string>(), activity[4].as<std::string>(), activity[5].as<std::string>(),
                          ParseTagObject(activity[6].as<std::string>())};
    for (const AlertRule& rule : it->second.first) {
      if (!RuleFires(rule, trigger)) continue;
      for (const std::string& channel : RuleChannels(rule, it->second.second)) {
        const std::string key =
            "activity:" + std::to_string(activity_id) + ":rule:" + std::to_string(rule.id) + ":" + channel;
        if (!tx.exec_prepared(kAddNotification, project_id, issue_id, rule.id, channel, trigger.kind,
                              activity[7].as<std::string>(), key)
                 .empty()) {
          ++round.notifications;
          notifications.Inc();
        }
      }
    }
    tx.exec_prepared(kMarkDispatched, activity_id);
    ++round.activities;
  }
  tx.commit();
  return activities.size();
}

void AlertEngine::State::EvaluateFrequency(pqxx::connection& connection, AlertRound& round) {
  pqxx::work tx(connection);
  const auto now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& project_row : tx.exec_prepared(kFrequencyRules)) {
    const auto project_id = project_row[0].as<std::int64_t>();
    const auto rules = LoadRules(tx, project_id);
    std::optional<std::vector<std::string>> recipients;
    for (const AlertRule& rule : rules) {
      if (!rule.frequency_count) continue;
      const auto frequent = tx.exec_prepared(kFrequentIssues, project_id, *rule.frequency_minutes, rule.environment,
                                             rule.min_level, *rule.frequency_count, TagObject(rule.tag_filters));
      if (frequent.empty()) continue;
      if (!recipients) recipients = LoadRecipients(tx, project_id);
      const std::int64_t window = now_seconds / (std::int64_t{*rule.frequency_minutes} * 60);
      for (const auto& issue : frequent) {
        const auto issue_id = issue[0].as<std::int64_t>();
        for (const std::string& channel : RuleChannels(rule, *recipients)) {
          const std::string key = "frequency:rule:" + std::to_string(rule.id) + ":issue:" + std::to_string(issue_id) +
                                  ":window:" + std::to_string(window) + ":" + channel;
          if (!tx.exec_prepared(kAddNotification, project_id, issue_id, rule.id, channel, "frequency", "", key)
                   .empty()) {
            ++round.notifications;
            notifications.Inc();
          }
        }
      }
    }
  }
  tx.commit();
}

void AlertEngine::State::Batch(pqxx::connection& connection, AlertRound& round) {
  std::vector<std::pair<std::int64_t, std::string>> due;
  {
    pqxx::read_transaction tx(connection);
    for (const auto& row : tx.exec_prepared(kWaitingChannels)) {
      const std::string channel = row[1].as<std::string>();
      const bool waited_enough = row[2].as<std::int64_t>() >= config.digest_window.count();
      // Mail is digested; machines (webhooks, Slack) get every issue at once.
      if (!IsDigested(channel) || waited_enough) due.emplace_back(row[0].as<std::int64_t>(), channel);
    }
  }
  for (const auto& [project_id, channel] : due) {
    pqxx::work tx(connection);
    if (IsEmailChannel(channel) && !tx.exec_prepared1(kRecipientEnabled, project_id, channel.substr(6))[0].as<bool>()) {
      // The member unsubscribed (or left) after the notification was made.
      tx.exec_prepared(kSuppressChannel, project_id, channel);
      tx.commit();
      continue;
    }
    const auto waiting = tx.exec_prepared(kLockWaiting, project_id, channel);
    std::set<std::int64_t> recent;
    for (const auto& row :
         tx.exec_prepared(kRecentlyDelivered, project_id, channel, static_cast<double>(config.digest_window.count()))) {
      recent.insert(row[0].as<std::int64_t>());
    }
    // Issues in order of their first notification, each once.
    std::vector<std::int64_t> issue_ids;
    std::vector<std::string> reasons;
    std::map<std::int64_t, std::vector<std::int64_t>> notifications_of;
    std::int64_t rule_id = 0;
    for (const auto& row : waiting) {
      const auto id = row[0].as<std::int64_t>();
      const auto issue_id = row[1].as<std::int64_t>();
      if (recent.count(issue_id) > 0) {
        tx.exec_prepared(kSuppress, id);
        continue;
      }
      if (notifications_of.count(issue_id) == 0) {
        issue_ids.push_back(issue_id);
        reasons.push_back(row[3].as<std::string>());
        if (rule_id == 0) rule_id = row[2].as<std::int64_t>();
      }
      notifications_of[issue_id].push_back(id);
    }
    const auto make_delivery = [&](const std::vector<std::int64_t>& issues, const std::vector<std::string>& why) {
      std::vector<std::string> ids;
      for (auto id : issues) ids.push_back(std::to_string(id));
      const auto delivery_id =
          tx.exec_prepared1(kAddDelivery, project_id, rule_id, channel, Join(ids), Join(why))[0].as<std::int64_t>();
      for (auto issue : issues) {
        for (auto notification : notifications_of[issue]) tx.exec_prepared(kAssign, delivery_id, notification);
      }
      ++round.deliveries;
    };
    if (IsDigested(channel)) {
      if (!issue_ids.empty()) make_delivery(issue_ids, reasons);
    } else {
      for (std::size_t i = 0; i < issue_ids.size(); ++i) make_delivery({issue_ids[i]}, {reasons[i]});
    }
    tx.commit();
  }
}

notify::SendError AlertEngine::State::SendEmail(pqxx::connection& connection, const pqxx::row& delivery,
                                                const std::vector<AlertedIssue>& issues, bool& ok) {
  const auto delivery_id = delivery[0].as<std::int64_t>();
  const auto project_id = delivery[1].as<std::int64_t>();
  const std::string address = delivery[2].as<std::string>().substr(6);
  const std::string project_slug = delivery[7].as<std::string>();
  std::string unsubscribe_url;
  if (!config.secret_key.empty()) {
    pqxx::read_transaction tx(connection);
    const auto user = tx.exec_prepared(kUserByEmail, address);
    if (!user.empty()) {
      unsubscribe_url = config.web_public_url + "/api/0/notifications/unsubscribe/?token=" +
                        notify::MakeUnsubscribeToken(config.secret_key, {user[0][0].as<std::int64_t>(), project_id});
    }
  }
  const AlertMail mail = ComposeAlertMail(project_slug, issues, unsubscribe_url, config.web_public_url + "/");
  notify::Email email;
  email.to.push_back({address, ""});
  email.subject = mail.subject;
  email.text_body = mail.text;
  email.html_body = mail.html;
  // Stable across retries, so a receiving server or client can drop a repeat.
  email.message_id = "<alert-" + std::to_string(delivery_id) + "." + installation_tag + "@" + mail_domain + ">";
  if (unsubscribe_url.starts_with("https://")) email.list_unsubscribe_url = unsubscribe_url;
  auto result = smtp.Send(std::move(email));
  ok = result.has_value();
  return ok ? notify::SendError{} : result.error();
}

notify::SendError AlertEngine::State::SendWebhook(pqxx::connection& connection, const pqxx::row& delivery,
                                                  const std::vector<AlertedIssue>& issues,
                                                  const std::vector<std::int64_t>& ids, bool& ok) {
  ok = false;
  std::string url, secret, slack_url;
  {
    pqxx::read_transaction tx(connection);
    const auto rule = tx.exec_prepared(kRuleTarget, delivery[6].as<std::int64_t>());
    if (rule.empty()) {
      return notify::SendError{notify::FailureKind::kPermanent, 0, "the alert rule was deleted", std::nullopt};
    }
    url = rule[0][0].as<std::string>();
    secret = rule[0][1].as<std::string>();
    slack_url = rule[0][2].as<std::string>();
  }
  const bool slack = delivery[2].as<std::string>().starts_with("slack:");
  const AlertedIssue& issue = issues.front();
  notify::IssueAlert alert;
  alert.alert_id = "delivery-" + delivery[0].as<std::string>();
  alert.trigger = issue.reason == "new" ? "new_issue" : issue.reason;
  alert.project = delivery[7].as<std::string>();
  alert.issue_id = ids.front();
  alert.short_id = issue.short_id;
  alert.title = issue.title;
  alert.culprit = issue.culprit;
  alert.level = issue.level;
  alert.count = issue.times_seen;
  alert.url = issue.url;
  notify::WebhookRequest request;
  request.url = slack ? slack_url : url;
  if (request.url.empty()) {
    return notify::SendError{notify::FailureKind::kPermanent, 0, "the alert rule has no such target", std::nullopt};
  }
  request.body = slack ? (issues.size() > 1 ? SlackDigest(alert.project, issues) : notify::SlackPayload(alert))
                       : notify::GenericAlertPayload(alert);
  if (!slack) request.secret = secret;
  request.delivery_id = alert.alert_id;
  auto result = webhooks.Post(request);
  ok = result.has_value();
  return ok ? notify::SendError{} : result.error();
}

void AlertEngine::State::SendDue(pqxx::connection& connection, AlertRound& round) {
  pqxx::result due;
  {
    pqxx::read_transaction tx(connection);
    due = tx.exec_prepared(kDueDeliveries);
  }
  // Webhook calls per round are few, so a round (and the mail of the next one) waits for at most
  // that many webhook timeouts; the rest go in later rounds.
  constexpr int kWebhooksPerRound = 2;
  int webhooks_this_round = 0;
  for (const auto& delivery : due) {
    if (!IsEmailChannel(delivery[2].c_str()) && ++webhooks_this_round > kWebhooksPerRound) break;
    const auto delivery_id = delivery[0].as<std::int64_t>();
    const auto project_id = delivery[1].as<std::int64_t>();
    const std::string channel = delivery[2].as<std::string>();
    const std::string kind = channel.substr(0, channel.find(':'));
    const auto reasons = SplitLines(delivery[4].as<std::string>(), ',');
    std::vector<AlertedIssue> issues;
    std::vector<std::int64_t> ids;
    {
      pqxx::read_transaction tx(connection);
      const auto issue_ids = SplitLines(delivery[3].as<std::string>(), ',');
      for (std::size_t i = 0; i < issue_ids.size(); ++i) {
        const auto rows = tx.exec_prepared(kDeliveryIssues, project_id, std::stoll(issue_ids[i]));
        if (rows.empty()) continue;  // deleted since (retention, or by hand)
        const auto& r = rows[0];
        AlertedIssue issue;
        issue.short_id = IssueShortId(delivery[7].as<std::string>(), r[1].as<std::int64_t>());
        issue.title = r[2].as<std::string>();
        issue.culprit = r[3].as<std::string>();
        issue.level = r[4].as<std::string>();
        issue.times_seen = r[5].as<std::int64_t>();
        issue.user_count = r[6].as<std::int64_t>();
        issue.reason = i < reasons.size() ? reasons[i] : "new";
        issue.url = IssueUrl(delivery[8].as<std::string>(), r[0].as<std::int64_t>());
        if (issues.size() < kStackIssues) {
          const auto event = tx.exec_prepared(kLatestEvent, project_id, r[0].as<std::int64_t>());
          if (!event.empty()) issue.stack = StackPreview(db::EventJson(event[0][0], event[0][1]).c_str());
        }
        ids.push_back(r[0].as<std::int64_t>());
        issues.push_back(std::move(issue));
      }
    }
    bool ok = false;
    notify::SendError error{notify::FailureKind::kPermanent, 0, "none of its issues exists any more", std::nullopt};
    if (!issues.empty()) {
      error = IsEmailChannel(channel) ? SendEmail(connection, delivery, issues, ok)
                                      : SendWebhook(connection, delivery, issues, ids, ok);
    }
    pqxx::work tx(connection);
    const int attempts = delivery[5].as<int>() + 1;
    if (ok) {
      tx.exec_prepared(kMarkSent, delivery_id);
      sent.With({kind}).Inc();
      ++round.sent;
      spdlog::info("alert delivery {} sent to {} ({} issue(s), attempt {})", delivery_id,
                   IsEmailChannel(channel) ? channel : kind, issues.size(), attempts);
    } else if (error.Transient() && attempts < config.max_attempts) {
      const auto backoff = BackoffSeconds(attempts, config.retry_base, error);
      tx.exec_prepared(kMarkRetry, delivery_id, error.detail, static_cast<double>(backoff));
      retried.With({kind}).Inc();
      ++round.retried;
      spdlog::warn("alert delivery {} to {} failed (attempt {}), retrying in {} s: {}", delivery_id, kind, attempts,
                   backoff, error.detail);
    } else {
      tx.exec_prepared(kMarkFailed, delivery_id, error.detail);
      failed.With({kind}).Inc();
      ++round.failed;
      spdlog::error("alert delivery {} to {} given up after {} attempt(s): {}", delivery_id, kind, attempts,
                    error.detail);
    }
    tx.commit();
  }
}

AlertEngine::AlertEngine(AlertConfig config, metrics::Registry& registry)
    : state_(std::make_unique<State>(std::move(config), registry)) {
  spdlog::info("alerts: digest window {} s, links to {}, unsubscribe links {}", state_->config.digest_window.count(),
               state_->config.web_public_url, state_->config.secret_key.empty() ? "off (no ROOKERY_SECRET_KEY)" : "on");
  spdlog::info("alerts: mail via {}", notify::DescribeSmtpConfig(state_->config.smtp));
}

AlertEngine::~AlertEngine() = default;

void AlertEngine::PrepareStatements(pqxx::connection& connection) {
  PrepareAll(connection);
  PrepareAccountMail(connection);
}

AlertRound AlertEngine::RunOnce(pqxx::connection& connection) {
  AlertRound round;
  // Invitations and password resets first: somebody is looking at a login page, waiting for them.
  const AccountMailOptions account_mail{state_->config.max_attempts, state_->config.retry_base,
                                        "." + state_->installation_tag + "@" + state_->mail_domain};
  SendAccountMail(connection, state_->smtp, account_mail);
  // Drain the outbox first (a burst may need several batches), so one round sees the whole burst.
  while (state_->Dispatch(connection, round) == kActivityBatch) {
  }
  if (std::chrono::steady_clock::now() >= state_->next_frequency) {
    {
      pqxx::work tx(connection);
      const auto expired = tx.exec_prepared(kExpireSnoozes).affected_rows();
      const auto pruned = tx.exec_prepared1(kPruneHistory)[0].as<std::int64_t>();
      tx.commit();
      if (pruned > 0)
        spdlog::info("alerts: pruned {} outbox, notification and delivery row(s) older than 30 days", pruned);
      if (expired > 0) spdlog::info("alerts: {} issue(s) whose ignore ran out are unresolved again", expired);
    }
    state_->EvaluateFrequency(connection, round);
    state_->next_frequency = std::chrono::steady_clock::now() + state_->config.frequency_interval;
  }
  state_->Batch(connection, round);
  state_->SendDue(connection, round);
  pqxx::read_transaction tx(connection);
  state_->pending.store(tx.exec_prepared1(kCountPending)[0].as<std::int64_t>());
  return round;
}

std::int64_t AlertEngine::Pending() const {
  return state_->pending.load();
}

}  // namespace rookery::cron
