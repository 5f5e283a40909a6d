#include "event_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>

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
constexpr const char* kCountEvent = "worker_count_event";
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
};

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

EventOutcome WriteEvent(pqxx::transaction_base& tx, const ProcessedEvent& processed) {
  const auto& event = processed.event;
  EventOutcome outcome;
  const std::int64_t issue_id = ResolveIssue(tx, processed, outcome.new_issue);
  const auto inserted = tx.exec_prepared(
      kInsertEvent, processed.raw.project_id, processed.raw.event_id.ToUuidString(), issue_id,
      Timestamp(processed.raw.received_at_ms), Timestamp(event.timestamp_ms), event.platform, event.level, event.title,
      event.culprit, event.environment, event.release, processed.raw.sdk_name, processed.raw.sdk_version,
      processed.client_ip, TextArray(processed.grouping.hashes), event.storable_json);
  if (!inserted.empty()) {
    outcome.inserted = true;
    tx.exec_prepared(kCountEvent, issue_id, Timestamp(processed.raw.received_at_ms), event.title, event.culprit,
                     event.level);
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
      "INSERT INTO events (project_id, event_id, issue_id, received_at, timestamp, platform, level, title, culprit, "
      "environment, release, sdk_name, sdk_version, client_ip, hashes, data) "
      "VALUES ($1, $2::uuid, $3, $4::timestamptz, $5::timestamptz, $6, $7, $8, $9, $10, $11, $12, $13, "
      "NULLIF($14, '')::inet, $15::text[], $16::jsonb) "
      "ON CONFLICT (project_id, event_id) DO NOTHING RETURNING 1");
  // The issue shows its latest event's title and culprit, as Sentry's does.
  connection.prepare(
      kCountEvent,
      "UPDATE issues SET times_seen = times_seen + 1, "
      "first_seen = LEAST(first_seen, $2::timestamptz), last_seen = GREATEST(last_seen, $2::timestamptz), "
      "title = $3, culprit = $4, level = $5 WHERE id = $1");
  connection.prepare(kDeadLetter,
                     "INSERT INTO dead_letters (topic, partition, \"offset\", reason, payload) "
                     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (topic, partition, \"offset\") DO NOTHING");
}

namespace {

// Only errors about one event's own data (a value refused, its project deleted meanwhile) are
// final for that event; anything else (connection, deadlock, timeout) fails the whole attempt.
bool IsEventDataError(const pqxx::sql_error& e) {
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
}

}  // namespace

BatchResult WriteBatch(pqxx::connection& connection, BatchWrite& batch) {
  // A stable order (project, hash) makes concurrent workers take row locks in the same order.
  std::sort(batch.events.begin(), batch.events.end(), [](const ProcessedEvent& a, const ProcessedEvent& b) {
    return std::tie(a.raw.project_id, a.grouping.hashes.front()) <
           std::tie(b.raw.project_id, b.grouping.hashes.front());
  });
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
