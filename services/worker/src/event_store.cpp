#include "event_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "rookery/core/time.hpp"

namespace rookery::worker {
namespace {

constexpr const char* kFindIssue = "worker_find_issue";
constexpr const char* kNextShortId = "worker_next_short_id";
constexpr const char* kCreateIssue = "worker_create_issue";
constexpr const char* kClaimHash = "worker_claim_hash";
constexpr const char* kAddHashes = "worker_add_hashes";
constexpr const char* kDropIssue = "worker_drop_issue";
constexpr const char* kInsertEvent = "worker_insert_event";
constexpr const char* kLockIssue = "worker_lock_issue";
constexpr const char* kCountEvent = "worker_count_event";
constexpr const char* kAddUser = "worker_add_user";
constexpr const char* kCountTags = "worker_count_tags";
constexpr const char* kCountHour = "worker_count_hour";
constexpr const char* kAddActivity = "worker_add_activity";
constexpr const char* kEnsurePartition = "worker_ensure_partition";
constexpr const char* kDeadLetter = "worker_dead_letter";

std::string TextArray(const std::vector<std::string>& values) {
  // Hashes are usually hex, but a legacy `checksum` is kept raw: quote every element.
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string Timestamp(std::int64_t unix_millis) {
  return FormatIso8601Millis(unix_millis);
}

struct EventOutcome {
  bool inserted = false;
  bool new_issue = false;
  bool regressed = false;
  bool resurfaced = false;
};

// The events partition an event lives in: the UTC date of its (normalized) timestamp.
std::string EventDay(std::int64_t unix_millis) {
  return FormatIso8601Millis(unix_millis).substr(0, 10);
}

// Returns the issue that owns the event's primary hash, creating it if no issue does.
std::int64_t ResolveIssue(pqxx::transaction_base& tx, const ProcessedEvent& processed, bool& created) {
  const auto& event = processed.event;
  const std::int64_t project_id = processed.raw.project_id;
  const std::string& hash = processed.grouping.hashes.front();
  created = false;
  const std::string hashes = TextArray(processed.grouping.hashes);
  if (auto found = tx.exec_prepared(kFindIssue, project_id, hashes); !found.empty()) {
    const std::int64_t issue_id = found[0][0].as<std::int64_t>();
    if (processed.grouping.hashes.size() > 1) {
      tx.exec_prepared(kAddHashes, project_id, issue_id, processed.grouping.config, hashes);
    }
    return issue_id;
  }
  const std::int64_t short_id = tx.exec_prepared(kNextShortId, project_id)[0][0].as<std::int64_t>();
  const std::string seen = Timestamp(processed.raw.received_at_ms);
  // Metadata {type, value} for a real exception; {title} otherwise (messages, synthetic exceptions).
  const bool typed = !event.exceptions.empty() && !event.exceptions.back().synthetic;
  const std::string type_name = typed ? event.exceptions.back().type : std::string();
  const std::string value = typed ? event.exceptions.back().value : std::string();
  const std::int64_t issue_id =
      tx.exec_prepared(kCreateIssue, project_id, short_id, event.title, event.culprit, event.level, event.event_type,
                       type_name, value, seen, event.platform, event.logger)[0][0]
          .as<std::int64_t>();
  auto claimed = tx.exec_prepared(kClaimHash, project_id, hash, issue_id, processed.grouping.config);
  if (claimed.empty()) {
    // Another worker created the issue for this hash first (we waited on its commit): use theirs.
    tx.exec_prepared(kDropIssue, issue_id);
    return tx.exec_prepared(kFindIssue, project_id, TextArray(processed.grouping.hashes))[0][0].as<std::int64_t>();
  }
  created = true;
  if (processed.grouping.hashes.size() > 1) {
    tx.exec_prepared(kAddHashes, project_id, issue_id, processed.grouping.config, TextArray(processed.grouping.hashes));
  }
  return issue_id;
}

// What a newly stored event does to its issue's status; written to the outbox when it changes.
std::string_view StatusTransition(const pqxx::row& issue, std::int64_t received_at_ms, std::int64_t times_seen_after,
                                  std::int64_t user_count_after) {
  const std::string_view status = issue["status"].c_str();
  if (status == "resolved") {
    // An event that was already queued when the issue was resolved does not reopen it.
    const bool after_resolution =
        issue["resolved_ms"].is_null() || received_at_ms > issue["resolved_ms"].as<std::int64_t>();
    return after_resolution ? "regression" : "";
  }
  if (status == "ignored") {
    const bool expired =
        !issue["ignore_until_ms"].is_null() && received_at_ms >= issue["ignore_until_ms"].as<std::int64_t>();
    const bool count_reached = !issue["ignore_until_times_seen"].is_null() &&
                               times_seen_after >= issue["ignore_until_times_seen"].as<std::int64_t>();
    const bool users_reached = !issue["ignore_until_user_count"].is_null() &&
                               user_count_after >= issue["ignore_until_user_count"].as<std::int64_t>();
    return expired || count_reached || users_reached ? "resurfaced" : "";
  }
  return "";
}

// The event's tags as a JSON object, for the outbox row that alert filters read.
std::string TagsJson(const ProcessedEvent& processed) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  for (const auto& [key, value] : processed.tags) {
    writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string TagKeys(const ProcessedEvent& processed) {
  std::vector<std::string> keys;
  for (const auto& tag : processed.tags) keys.push_back(tag.first);
  return TextArray(keys);
}

std::string TagValues(const ProcessedEvent& processed) {
  std::vector<std::string> values;
  for (const auto& tag : processed.tags) values.push_back(tag.second);
  return TextArray(values);
}

EventOutcome WriteEvent(pqxx::transaction_base& tx, const ProcessedEvent& processed) {
  const auto& event = processed.event;
  const std::int64_t project_id = processed.raw.project_id;
  EventOutcome outcome;
  const std::int64_t issue_id = ResolveIssue(tx, processed, outcome.new_issue);
  const std::string event_id = processed.raw.event_id.ToUuidString();
  const std::string received_at = Timestamp(processed.raw.received_at_ms);
  const std::string timestamp = Timestamp(event.timestamp_ms);
  const auto inserted = tx.exec_prepared(
      kInsertEvent, project_id, event_id, EventDay(event.timestamp_ms), issue_id, received_at, timestamp,
      event.platform, event.level, event.title, event.culprit, event.environment, event.release, processed.raw.sdk_name,
      processed.raw.sdk_version, processed.client_ip, TextArray(processed.grouping.hashes), event.storable_json);
  if (inserted.empty()) return outcome;  // a replay: nothing below may count it twice
  outcome.inserted = true;

  // The row lock serializes workers storing events of the same issue, so each one sees the
  // status the previous one left and a transition is recorded exactly once.
  const pqxx::row issue = tx.exec_prepared1(kLockIssue, issue_id);
  bool new_user = false;
  if (!processed.user_key.empty()) {
    new_user = !tx.exec_prepared(kAddUser, project_id, issue_id, processed.user_key, received_at).empty();
  }
  const std::int64_t times_seen_after = issue["times_seen"].as<std::int64_t>() + 1;
  const std::int64_t user_count_after = issue["user_count"].as<std::int64_t>() + (new_user ? 1 : 0);
  const std::string_view transition =
      outcome.new_issue ? "new"
                        : StatusTransition(issue, processed.raw.received_at_ms, times_seen_after, user_count_after);
  const bool reopens = transition == "regression" || transition == "resurfaced";
  tx.exec_prepared(kCountEvent, issue_id, received_at, event.title, event.culprit, event.level, new_user ? 1 : 0,
                   reopens);
  if (!processed.tags.empty()) {
    tx.exec_prepared(kCountTags, project_id, issue_id, TagKeys(processed), TagValues(processed), timestamp);
  }
  tx.exec_prepared(kCountHour, project_id, issue_id, timestamp);
  if (!transition.empty()) {
    tx.exec_prepared(kAddActivity, project_id, issue_id, std::string(transition), event_id, event.level,
                     event.environment, TagsJson(processed));
    if (transition == "regression") outcome.regressed = true;
    if (transition == "resurfaced") outcome.resurfaced = true;
  }
  return outcome;
}

void WriteDeadLetter(pqxx::transaction_base& tx, const DeadLetterRecord& letter) {
  tx.exec_prepared(kDeadLetter, letter.topic, letter.partition, letter.offset, letter.reason,
                   pqxx::binarystring(letter.payload));
}

}  // namespace

void PrepareStatements(pqxx::connection& connection) {
  connection.prepare(kFindIssue,
                     "SELECT issue_id FROM group_hashes WHERE project_id = $1 AND hash = ANY($2::text[]) "
                     "ORDER BY array_position($2::text[], hash::text) LIMIT 1");
  connection.prepare(kNextShortId,
                     "INSERT INTO project_counters (project_id) VALUES ($1) ON CONFLICT (project_id) "
                     "DO UPDATE SET next_short_id = project_counters.next_short_id + 1 RETURNING next_short_id");
  connection.prepare(
      kCreateIssue,
      "INSERT INTO issues (project_id, short_id, title, culprit, level, type, metadata, first_seen, last_seen, "
      "platform, logger) "
      "VALUES ($1, $2, $3, $4, $5, $6, "
      "  CASE WHEN $7 = '' AND $8 = '' THEN jsonb_build_object('title', $3::text) "
      "       ELSE jsonb_build_object('type', $7::text, 'value', $8::text) END, "
      "  $9::timestamptz, $9::timestamptz, $10, $11) RETURNING id");
  connection.prepare(kClaimHash,
                     "INSERT INTO group_hashes (project_id, hash, issue_id, config) VALUES ($1, $2, $3, $4) "
                     "ON CONFLICT (project_id, hash) DO NOTHING RETURNING issue_id");
  connection.prepare(kDropIssue, "DELETE FROM issues WHERE id = $1");
  // Every hash of an event points at its issue, so later events sharing any of them join it.
  connection.prepare(kAddHashes,
                     "INSERT INTO group_hashes (project_id, hash, issue_id, config) "
                     "SELECT $1, h, $2, $3 FROM unnest($4::text[]) AS h ON CONFLICT (project_id, hash) DO NOTHING");
  connection.prepare(
      kInsertEvent,
      "INSERT INTO events (project_id, event_id, day, issue_id, received_at, timestamp, platform, level, title, "
      "culprit, environment, release, sdk_name, sdk_version, client_ip, hashes, data) "
      "VALUES ($1, $2::uuid, $3::date, $4, $5::timestamptz, $6::timestamptz, $7, $8, $9, $10, $11, $12, $13, $14, "
      "NULLIF($15, '')::inet, $16::text[], $17::jsonb) "
      "ON CONFLICT (project_id, event_id, day) DO NOTHING RETURNING 1");
  connection.prepare(kLockIssue,
                     "SELECT status, times_seen, user_count, "
                     "(extract(epoch FROM resolved_at) * 1000)::bigint AS resolved_ms, "
                     "(extract(epoch FROM ignore_until) * 1000)::bigint AS ignore_until_ms, "
                     "ignore_until_times_seen, ignore_until_user_count FROM issues WHERE id = $1 FOR UPDATE");
  connection.prepare(kAddUser,
                     "INSERT INTO issue_users (project_id, issue_id, user_key, first_seen) "
                     "VALUES ($1, $2, $3, $4::timestamptz) ON CONFLICT DO NOTHING RETURNING 1");
  // The issue shows its latest event's title and culprit, as Sentry's does. A regression or
  // re-surfacing clears the resolution and the ignore conditions.
  connection.prepare(
      kCountEvent,
      "UPDATE issues SET times_seen = times_seen + 1, user_count = user_count + $6, "
      "first_seen = LEAST(first_seen, $2::timestamptz), last_seen = GREATEST(last_seen, $2::timestamptz), "
      "title = $3, culprit = $4, level = $5, "
      "status = CASE WHEN $7 THEN 'unresolved' ELSE status END, "
      "resolved_at = CASE WHEN $7 THEN NULL ELSE resolved_at END, "
      "ignore_until = CASE WHEN $7 THEN NULL ELSE ignore_until END, "
      "ignore_until_times_seen = CASE WHEN $7 THEN NULL ELSE ignore_until_times_seen END, "
      "ignore_until_user_count = CASE WHEN $7 THEN NULL ELSE ignore_until_user_count END, "
      "status_changed_at = CASE WHEN $7 THEN now() ELSE status_changed_at END "
      "WHERE id = $1");
  connection.prepare(kCountTags,
                     "INSERT INTO issue_tag_values (project_id, issue_id, key, value, times_seen, first_seen, "
                     "last_seen) SELECT $1, $2, k, v, 1, $5::timestamptz, $5::timestamptz "
                     "FROM unnest($3::text[], $4::text[]) AS t(k, v) "
                     "ON CONFLICT (project_id, issue_id, key, value) DO UPDATE SET "
                     "times_seen = issue_tag_values.times_seen + 1, "
                     "first_seen = LEAST(issue_tag_values.first_seen, excluded.first_seen), "
                     "last_seen = GREATEST(issue_tag_values.last_seen, excluded.last_seen)");
  connection.prepare(kCountHour,
                     "INSERT INTO issue_hourly_counts (project_id, issue_id, hour, count) "
                     "VALUES ($1, $2, date_trunc('hour', $3::timestamptz, 'UTC'), 1) "
                     "ON CONFLICT (project_id, issue_id, hour) DO UPDATE SET count = issue_hourly_counts.count + 1");
  connection.prepare(kAddActivity,
                     "INSERT INTO issue_activities (project_id, issue_id, kind, event_id, level, environment, tags) "
                     "VALUES ($1, $2, $3, $4::uuid, $5, $6, $7::jsonb)");
  connection.prepare(kEnsurePartition, "SELECT rookery_ensure_events_partition($1::date)");
  connection.prepare(kDeadLetter,
                     "INSERT INTO dead_letters (topic, partition, \"offset\", reason, payload) "
                     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (topic, partition, \"offset\") DO NOTHING");
}

namespace {

// Only errors about one event's own data (a value refused, its project deleted meanwhile) are
// final for that event; anything else (connection, deadlock, timeout) fails the whole attempt.
bool IsEventDataError(const pqxx::sql_error& e) {
  // A partition dropped by retention after EnsurePartitions ran: the next attempt recreates it.
  if (std::string_view(e.what()).find("no partition of relation") != std::string_view::npos) return false;
  return dynamic_cast<const pqxx::data_exception*>(&e) != nullptr ||
         dynamic_cast<const pqxx::integrity_constraint_violation*>(&e) != nullptr;
}

// PostgreSQL's message may quote the refused bytes; a dead letter's reason must itself be storable.
std::string PrintableReason(std::string_view what) {
  std::string reason = "database refused event: ";
  for (char c : what) reason.push_back(static_cast<unsigned char>(c) < 0x80 ? c : '?');
  return reason;
}

void Count(const EventOutcome& outcome, BatchResult& result) {
  if (outcome.inserted) {
    ++result.inserted;
  } else {
    ++result.duplicates;
  }
  if (outcome.new_issue) ++result.new_issues;
  if (outcome.regressed) ++result.regressions;
  if (outcome.resurfaced) ++result.resurfaced;
}

// Partitions are created ahead by cron; this covers a cron that is down and events dated days
// back. Its own short transactions: creating a partition locks the parent table briefly.
void EnsurePartitions(pqxx::connection& connection, const BatchWrite& batch) {
  std::vector<std::string> days;
  for (const auto& processed : batch.events) days.push_back(EventDay(processed.event.timestamp_ms));
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  for (const auto& day : days) {
    pqxx::nontransaction tx(connection);
    if (tx.exec_prepared1(kEnsurePartition, day)[0].as<bool>()) spdlog::info("created events partition for {}", day);
  }
}

}  // namespace

BatchResult WriteBatch(pqxx::connection& connection, BatchWrite& batch) {
  // A stable order (project, hash) makes concurrent workers take row locks in the same order.
  std::sort(batch.events.begin(), batch.events.end(), [](const ProcessedEvent& a, const ProcessedEvent& b) {
    return std::tie(a.raw.project_id, a.grouping.hashes.front()) <
           std::tie(b.raw.project_id, b.grouping.hashes.front());
  });
  EnsurePartitions(connection, batch);
  // The common case: the whole batch in one transaction.
  try {
    BatchResult result;
    pqxx::work tx(connection);
    for (const auto& processed : batch.events) Count(WriteEvent(tx, processed), result);
    for (const auto& letter : batch.dead_letters) {
      WriteDeadLetter(tx, letter);
      ++result.dead_lettered;
    }
    tx.commit();
    return result;
  } catch (const pqxx::sql_error& e) {
    if (!IsEventDataError(e)) throw;
    spdlog::warn("batch refused by the database ({}); writing its events one by one", e.what());
  }
  // One event refused its data: every event in a transaction of its own, so only that one is
  // dead-lettered. Each write is idempotent, so a crash half way through is replayed safely.
  BatchResult result;
  for (const auto& processed : batch.events) {
    try {
      pqxx::work tx(connection);
      const EventOutcome outcome = WriteEvent(tx, processed);
      tx.commit();
      Count(outcome, result);
    } catch (const pqxx::sql_error& e) {
      if (!IsEventDataError(e)) throw;
      spdlog::error("event {} refused by the database, dead-lettered: {}", processed.raw.event_id.ToHex(), e.what());
      batch.dead_letters.push_back(DeadLetterRecord{processed.topic, processed.partition, processed.offset,
                                                    PrintableReason(e.what()), processed.event.storable_json});
    }
  }
  pqxx::work tx(connection);
  for (const auto& letter : batch.dead_letters) {
    WriteDeadLetter(tx, letter);
    ++result.dead_lettered;
  }
  tx.commit();
  return result;
}

}  // namespace rookery::worker
