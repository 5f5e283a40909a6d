#include "event_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>
#include <set>
#include <stdexcept>
#include <tuple>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "dead_letter.hpp"
#include "rookery/core/time.hpp"
#include "rookery/db/binary_copy.hpp"
#include "rookery/db/event_payload.hpp"

namespace rookery::worker {
namespace {

constexpr const char* kFindIssue = "worker_find_issue";
constexpr const char* kNextShortId = "worker_next_short_id";
constexpr const char* kCreateIssue = "worker_create_issue";
constexpr const char* kClaimHash = "worker_claim_hash";
constexpr const char* kAddHashes = "worker_add_hashes";
constexpr const char* kDropIssue = "worker_drop_issue";
constexpr const char* kFindIssues = "worker_find_issues";
constexpr const char* kHoldIssues = "worker_hold_issues";
constexpr const char* kAttachHashes = "worker_attach_hashes";
constexpr const char* kFindStored = "worker_find_stored";
constexpr const char* kLockIssues = "worker_lock_issues";
constexpr const char* kCountEvents = "worker_count_events";
constexpr const char* kCountUnresolved = "worker_count_unresolved";
constexpr const char* kAddUsers = "worker_add_users";
constexpr const char* kFoldTagDeltas = "worker_fold_tag_deltas";
constexpr const char* kAnyTagDeltas = "worker_any_tag_deltas";
constexpr const char* kCountHours = "worker_count_hours";
constexpr const char* kAddActivities = "worker_add_activities";

// In the order of RenderEventRow's fields, the issue id last.
const std::vector<std::string> kEventColumns = {"project_id", "event_id", "day",         "received_at", "timestamp",
                                                "platform",   "level",    "title",       "culprit",     "environment",
                                                "release",    "sdk_name", "sdk_version", "client_ip",   "hashes",
                                                "data",       "payload",  "tags",        "issue_id"};
const std::vector<std::string> kTagDeltaColumns = {"project_id", "issue_id", "keys",   "values",
                                                   "counts",     "first_ms", "last_ms"};
constexpr const char* kEnsurePartition = "worker_ensure_partition";
constexpr const char* kDeadLetter = "worker_dead_letter";

std::string TextArray(const std::vector<std::string>& values) {
  // Hashes are usually hex, but a legacy `checksum` is kept raw: quote every element. Sized up
  // front and copied in runs between escapes: a batch renders a dozen arrays of hundreds of values.
  std::size_t size = 2;
  for (const std::string& value : values) size += value.size() + 3;
  std::string out;
  out.reserve(size);
  out += '{';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    const std::string& value = values[i];
    std::size_t start = 0;
    for (std::size_t k = 0; k < value.size(); ++k) {
      if (value[k] != '"' && value[k] != '\\') continue;
      out.append(value, start, k - start);
      out += '\\';
      start = k;  // the quote or backslash itself starts the next run
    }
    out.append(value, start);
    out += '"';
  }
  out += '}';
  return out;
}

std::string Timestamp(std::int64_t unix_millis) {
  return FormatIso8601Millis(unix_millis);
}

// The events partition an event lives in: the UTC date of its (normalized) timestamp.
std::string EventDay(std::int64_t unix_millis) {
  return FormatIso8601Millis(unix_millis).substr(0, 10);
}

// Appends `text` as a field of COPY's text format: backslash, tab, newline and carriage return
// escaped. Runs of plain bytes are appended whole (pqxx 6.4's stream_to escapes byte by byte, and
// copies each field twice more: it was the worker's largest single cost).
void AppendCopyField(std::string& line, std::string_view text) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\\' && c != '\t' && c != '\n' && c != '\r') continue;
    line.append(text.data() + start, i - start);
    line += '\\';
    line += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
    start = i + 1;
  }
  line.append(text.data() + start, text.size() - start);
  line += '\t';
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
  const std::int64_t issue_id =
      tx.exec_prepared(kCreateIssue, project_id, short_id, event.title, event.culprit, event.level, event.event_type,
                       normalize::MetadataJson(event.metadata), seen, event.platform, event.logger)[0][0]
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

std::string IntArray(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(values[i]);
  }
  return out + "}";
}

std::string HourOf(std::int64_t unix_millis) {
  constexpr std::int64_t kHour = 3'600'000;
  const std::int64_t floored =
      unix_millis >= 0 ? unix_millis / kHour * kHour : (unix_millis - kHour + 1) / kHour * kHour;
  return Timestamp(floored);
}

// Everything one batch does to one issue, summed in memory so each table gets one statement.
struct IssueDelta {
  std::int64_t project_id = 0;
  bool created = false;             // by this batch
  std::vector<std::size_t> events;  // indexes of newly stored events, in batch order
  std::size_t latest = 0;           // the event whose title and level the issue shows
  std::int64_t first_received_ms = 0;
  std::int64_t last_received_ms = 0;
  std::int64_t new_users = 0;
};

// The arguments of the statements that count a batch's events into their issues.
class IssueCounts {
 public:
  void Add(std::int64_t id, const IssueDelta& delta, const ProcessedEvent& latest, bool reopen) {
    ids_.push_back(id);
    counts_.push_back(static_cast<std::int64_t>(delta.events.size()));
    new_users_.push_back(delta.new_users);
    firsts_.push_back(Timestamp(delta.first_received_ms));
    lasts_.push_back(Timestamp(delta.last_received_ms));
    titles_.push_back(latest.event.title);
    culprits_.push_back(latest.event.culprit);
    levels_.push_back(latest.event.level);
    reopen_.emplace_back(reopen ? "t" : "f");
    metadatas_.push_back(normalize::MetadataJson(latest.event.metadata));
  }

  pqxx::result Exec(pqxx::transaction_base& tx, const char* statement) const {
    return tx.exec_prepared(statement, IntArray(ids_), IntArray(counts_), IntArray(new_users_), TextArray(firsts_),
                            TextArray(lasts_), TextArray(titles_), TextArray(culprits_), TextArray(levels_),
                            TextArray(reopen_), TextArray(metadatas_));
  }

 private:
  std::vector<std::int64_t> ids_, counts_, new_users_;
  std::vector<std::string> firsts_, lasts_, titles_, culprits_, levels_, reopen_, metadatas_;
};

struct TagDelta {
  std::int64_t count = 0;
  std::int64_t first_ms = 0;
  std::int64_t last_ms = 0;
};

// Finds or creates each event's issue: one lookup for every hash in the batch, then a create (with
// its race handling) only per group no issue owns yet.
std::vector<std::int64_t> ResolveIssues(pqxx::transaction_base& tx, const std::vector<const ProcessedEvent*>& events,
                                        std::set<std::int64_t>& created) {
  std::vector<std::int64_t> projects;
  std::vector<std::string> hashes;
  for (const auto* processed : events) {
    for (const auto& hash : processed->grouping.hashes) {
      projects.push_back(processed->raw.project_id);
      hashes.push_back(hash);
    }
  }
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> owner;
  for (const auto& row : tx.exec_prepared(kFindIssues, IntArray(projects), TextArray(hashes))) {
    owner[{row[0].as<std::int64_t>(), row[1].as<std::string>()}] = row[2].as<std::int64_t>();
  }
  // The issues found are held (FOR KEY SHARE) before any of their aggregate rows is touched, as
  // the aggregates' foreign keys once did row by row: a merge or delete holding one makes the
  // batch wait here, not after it has locked rows the merge must delete (a deadlock), and one that
  // committed meanwhile has taken the issue away, and the batch is written again.
  std::set<std::int64_t> found;
  for (const auto& [key, issue_id] : owner) found.insert(issue_id);
  if (!found.empty()) {
    const std::vector<std::int64_t> wanted(found.begin(), found.end());
    if (tx.exec_prepared(kHoldIssues, IntArray(wanted)).size() != wanted.size()) {
      throw std::runtime_error("an issue of the batch was merged or deleted meanwhile");
    }
  }
  std::vector<std::int64_t> issue_of(events.size(), 0);
  std::vector<std::int64_t> attach_projects, attach_issues;
  std::vector<std::string> attach_hashes, attach_configs;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const ProcessedEvent& processed = *events[i];
    const std::int64_t project_id = processed.raw.project_id;
    for (const auto& hash : processed.grouping.hashes) {
      if (auto it = owner.find({project_id, hash}); it != owner.end()) {
        issue_of[i] = it->second;
        break;
      }
    }
    if (issue_of[i] == 0) {
      bool made = false;
      issue_of[i] = ResolveIssue(tx, processed, made);
      if (made) created.insert(issue_of[i]);
      for (const auto& hash : processed.grouping.hashes) owner.emplace(std::pair{project_id, hash}, issue_of[i]);
      continue;
    }
    // Hashes of the event no issue owns yet join its issue, so later events sharing them do too.
    for (const auto& hash : processed.grouping.hashes) {
      if (owner.emplace(std::pair{project_id, hash}, issue_of[i]).second) {
        attach_projects.push_back(project_id);
        attach_issues.push_back(issue_of[i]);
        attach_hashes.push_back(hash);
        attach_configs.push_back(processed.grouping.config);
      }
    }
  }
  if (!attach_hashes.empty()) {
    tx.exec_prepared(kAttachHashes, IntArray(attach_projects), TextArray(attach_hashes), IntArray(attach_issues),
                     TextArray(attach_configs));
  }
  return issue_of;
}

// Stores the events the batch brings for the first time and returns which those are: not stored
// before (a replay finds its event stored) and not repeated earlier in the batch (an SDK retry can
// land in the same batch). "Stored before" looks at the event's day and the days either side: the
// unique key must hold the partition's day, and a retry whose timestamp was clamped or missing can
// land on the next day. The new ones are COPYed straight into `events`, so each payload crosses
// PostgreSQL once. An event a concurrent worker stores between the look-up and the COPY (a replay
// racing its original) makes the COPY fail with a unique violation, which WriteBatch retries.
std::vector<bool> InsertEvents(pqxx::dbtransaction& tx, const std::vector<const ProcessedEvent*>& events,
                               const std::vector<std::int64_t>& issue_of) {
  std::vector<std::int64_t> projects;
  std::vector<std::string> ids, days;
  for (const auto* p : events) {
    projects.push_back(p->raw.project_id);
    ids.push_back(p->raw.event_id.ToUuidString());
    days.push_back(EventDay(p->event.timestamp_ms));
  }
  std::vector<bool> inserted(events.size(), true);
  for (const auto& row : tx.exec_prepared(kFindStored, IntArray(projects), TextArray(ids), TextArray(days))) {
    inserted[row[0].as<std::size_t>() - 1] = false;
  }
  // In key order, so that workers replaying the same events wait on each other's rows in one order
  // instead of deadlocking.
  const auto key = [&](std::size_t i) { return std::tie(projects[i], ids[i], days[i]); };
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (inserted[i]) candidates.push_back(i);
  }
  std::stable_sort(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  std::vector<std::size_t> order;
  for (std::size_t i : candidates) {
    // One event id per project, whatever the day: a retry's day may differ (see kFindStored).
    if (!order.empty() && projects[order.back()] == projects[i] && ids[order.back()] == ids[i]) {
      inserted[i] = false;  // the batch's first copy of the event is the one stored
    } else {
      order.push_back(i);
    }
  }
  if (order.empty()) return inserted;

  // Binary rows (RenderEventRow), each followed by its issue id field, sent piece by piece.
  constexpr std::size_t kIssueIdField = 12;  // length and 8 bytes
  std::string issue_ids;
  issue_ids.reserve(order.size() * kIssueIdField);
  for (std::size_t i : order) db::BinaryRow(issue_ids).Int64(issue_of[i]);
  std::vector<std::string_view> pieces;
  pieces.reserve(order.size() * 2);
  for (std::size_t k = 0; k < order.size(); ++k) {
    pieces.emplace_back(events[order[k]]->copy_row);
    pieces.emplace_back(issue_ids.data() + k * kIssueIdField, kIssueIdField);
  }
  db::CopyBinary(tx, "events", kEventColumns, pieces);
  return inserted;
}

// What the batch's new events do to an issue's status (written to the outbox when it changes),
// and the event that did it.
std::pair<std::string_view, std::size_t> Transition(const pqxx::row& issue, const IssueDelta& delta,
                                                    const std::vector<const ProcessedEvent*>& events) {
  if (delta.created) return {"new", delta.events.front()};
  const std::string_view status = issue["status"].c_str();
  if (status == "resolved") {
    // An event that was already queued when the issue was resolved does not reopen it.
    for (std::size_t index : delta.events) {
      if (issue["resolved_ms"].is_null() ||
          events[index]->raw.received_at_ms > issue["resolved_ms"].as<std::int64_t>()) {
        return {"regression", index};
      }
    }
    return {"", 0};
  }
  if (status == "ignored") {
    const auto count = static_cast<std::int64_t>(delta.events.size());
    const bool expired =
        !issue["ignore_until_ms"].is_null() && delta.last_received_ms >= issue["ignore_until_ms"].as<std::int64_t>();
    const bool count_reached =
        !issue["ignore_until_times_seen"].is_null() &&
        issue["times_seen"].as<std::int64_t>() + count >= issue["ignore_until_times_seen"].as<std::int64_t>();
    const bool users_reached =
        !issue["ignore_until_user_count"].is_null() &&
        issue["user_count"].as<std::int64_t>() + delta.new_users >= issue["ignore_until_user_count"].as<std::int64_t>();
    if (expired || count_reached || users_reached) return {"resurfaced", delta.events.back()};
  }
  if (status == "unresolved" && !issue["ignore_until_ms"].is_null() &&
      delta.last_received_ms >= issue["ignore_until_ms"].as<std::int64_t>()) {
    // Cron ended this ignore when its time ran out and left ignore_until as the mark: the first
    // event since then is the one that re-surfaces it, as it would have without cron.
    return {"resurfaced", delta.events.back()};
  }
  return {"", 0};
}

using TagDeltas = std::map<std::tuple<std::int64_t, std::string, std::string>, TagDelta>;

// The batch's tag counts, one row per issue, appended to issue_tag_deltas (migration 0013) for a
// fold to sum into issue_tag_values. COPY, since the rows are only appended: no key to probe.
void WriteTagDeltas(pqxx::transaction_base& tx, const TagDeltas& tags,
                    const std::map<std::int64_t, IssueDelta>& issues) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter copy(tx, "issue_tag_deltas", kTagDeltaColumns.begin(), kTagDeltaColumns.end());
#pragma GCC diagnostic pop
  std::vector<std::string> keys, values;
  std::vector<std::int64_t> counts, firsts, lasts;
  std::string line;
  for (auto it = tags.begin(); it != tags.end();) {
    const std::int64_t issue_id = std::get<0>(it->first);
    keys.clear();
    values.clear();
    counts.clear();
    firsts.clear();
    lasts.clear();
    for (; it != tags.end() && std::get<0>(it->first) == issue_id; ++it) {
      keys.push_back(std::get<1>(it->first));
      values.push_back(std::get<2>(it->first));
      counts.push_back(it->second.count);
      firsts.push_back(it->second.first_ms);
      lasts.push_back(it->second.last_ms);
    }
    line.clear();
    AppendCopyField(line, std::to_string(issues.at(issue_id).project_id));
    AppendCopyField(line, std::to_string(issue_id));
    AppendCopyField(line, TextArray(keys));
    AppendCopyField(line, TextArray(values));
    AppendCopyField(line, IntArray(counts));
    AppendCopyField(line, IntArray(firsts));
    AppendCopyField(line, IntArray(lasts));
    line.pop_back();  // the last field's tab
    copy.write_raw_line(line);
  }
  copy.complete();
}

// Stores a batch of events and everything they change, in the caller's transaction, with a fixed
// number of statements whatever the batch size (plus one create per new issue). Only newly
// inserted events count, so a replayed batch changes nothing.
BatchResult WriteEvents(pqxx::dbtransaction& tx, const std::vector<const ProcessedEvent*>& events) {
  BatchResult result;
  if (events.empty()) return result;
  std::set<std::int64_t> created;
  const std::vector<std::int64_t> issue_of = ResolveIssues(tx, events, created);
  const std::vector<bool> inserted = InsertEvents(tx, events, issue_of);

  std::map<std::int64_t, IssueDelta> issues;                          // ordered by id: the order rows are locked in
  std::map<std::pair<std::int64_t, std::string>, std::size_t> users;  // (issue, user key) -> its first event
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!inserted[i]) {
      ++result.duplicates;
      continue;
    }
    ++result.inserted;
    const ProcessedEvent& processed = *events[i];
    IssueDelta& delta = issues[issue_of[i]];
    const std::int64_t received = processed.raw.received_at_ms;
    if (delta.events.empty()) {
      delta.project_id = processed.raw.project_id;
      delta.created = created.count(issue_of[i]) > 0;
      delta.first_received_ms = delta.last_received_ms = received;
      delta.latest = i;
    }
    delta.events.push_back(i);
    delta.first_received_ms = std::min(delta.first_received_ms, received);
    if (received >= delta.last_received_ms) {
      delta.last_received_ms = received;
      delta.latest = i;
    }
    if (!processed.user_key.empty()) users.emplace(std::pair{issue_of[i], processed.user_key}, i);
  }
  if (issues.empty()) return result;

  if (!users.empty()) {
    std::vector<std::int64_t> user_projects, user_issues;
    std::vector<std::string> user_keys, user_seen;
    for (const auto& [key, index] : users) {
      user_projects.push_back(events[index]->raw.project_id);
      user_issues.push_back(key.first);
      user_keys.push_back(key.second);
      user_seen.push_back(Timestamp(events[index]->raw.received_at_ms));
    }
    for (const auto& row : tx.exec_prepared(kAddUsers, IntArray(user_projects), IntArray(user_issues),
                                            TextArray(user_keys), TextArray(user_seen))) {
      ++issues[row[0].as<std::int64_t>()].new_users;
    }
  }

  TagDeltas tags;
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> hours;
  for (const auto& [id, delta] : issues) {
    for (std::size_t index : delta.events) {
      const std::int64_t timestamp = events[index]->event.timestamp_ms;
      ++hours[{id, HourOf(timestamp)}];
      for (const auto& [key, value] : events[index]->tags) {
        TagDelta& tag = tags[{id, key, value}];
        tag.first_ms = tag.count == 0 ? timestamp : std::min(tag.first_ms, timestamp);
        tag.last_ms = tag.count == 0 ? timestamp : std::max(tag.last_ms, timestamp);
        ++tag.count;
      }
    }
  }
  if (!tags.empty()) WriteTagDeltas(tx, tags, issues);
  std::vector<std::int64_t> hour_projects, hour_issues, hour_counts;
  std::vector<std::string> hour_starts;
  for (const auto& [key, count] : hours) {
    hour_projects.push_back(issues[key.first].project_id);
    hour_issues.push_back(key.first);
    hour_starts.push_back(key.second);
    hour_counts.push_back(count);
  }
  tx.exec_prepared(kCountHours, IntArray(hour_projects), IntArray(hour_issues), TextArray(hour_starts),
                   IntArray(hour_counts));

  // The issue rows last, so they stay locked only from here to the commit: concurrent workers
  // storing events of the same issues take turns on them (each sees the status the previous one
  // left, so a transition is recorded exactly once), and so does a user changing an issue's status.
  // An unresolved issue has no transition to make: one UPDATE counts its events if it is still
  // unresolved once locked. Only the others (resolved or ignored, or changed meanwhile) are read
  // under the lock and go through Transition.
  std::vector<std::int64_t> ids;
  ids.reserve(issues.size());
  for (const auto& [id, delta] : issues) ids.push_back(id);
  IssueCounts unresolved;
  for (const auto& [id, delta] : issues) unresolved.Add(id, delta, *events[delta.latest], false);
  std::set<std::int64_t> counted;
  for (const auto& row : unresolved.Exec(tx, kCountUnresolved)) counted.insert(row[0].as<std::int64_t>());

  std::vector<std::int64_t> others;
  for (std::int64_t id : ids) {
    if (counted.count(id) == 0) others.push_back(id);
  }
  std::map<std::int64_t, pqxx::row> locked;
  IssueCounts reopened;
  if (!others.empty()) {
    const pqxx::result issue_rows = tx.exec_prepared(kLockIssues, IntArray(others));
    for (const auto& row : issue_rows) locked.emplace(row["id"].as<std::int64_t>(), row);
  }

  std::vector<std::int64_t> activity_projects, activity_issues;
  std::vector<std::string> activity_kinds, activity_events, activity_levels, activity_environments, activity_tags;
  for (const auto& [id, delta] : issues) {
    std::pair<std::string_view, std::size_t> transition{"", 0};
    if (counted.count(id) > 0) {
      if (delta.created) transition = {"new", delta.events.front()};
    } else {
      const auto row = locked.find(id);
      if (row == locked.end()) {
        // Merged or deleted since ResolveIssues found it: the pipeline writes the batch again, and
        // its hashes then lead to their new owner.
        throw std::runtime_error("issue " + std::to_string(id) + " was merged or deleted while the batch was written");
      }
      transition = Transition(row->second, delta, events);
      reopened.Add(id, delta, *events[delta.latest], !transition.first.empty());
    }
    const auto [kind, cause] = transition;
    if (!kind.empty()) {
      const ProcessedEvent& event = *events[cause];
      activity_projects.push_back(delta.project_id);
      activity_issues.push_back(id);
      activity_kinds.emplace_back(kind);
      activity_events.push_back(event.raw.event_id.ToUuidString());
      activity_levels.push_back(event.event.level);
      activity_environments.push_back(event.event.environment);
      activity_tags.push_back(TagsJson(event));
      if (kind == "new") ++result.new_issues;
      if (kind == "regression") ++result.regressions;
      if (kind == "resurfaced") ++result.resurfaced;
    }
  }
  if (!others.empty()) reopened.Exec(tx, kCountEvents);
  if (!activity_issues.empty()) {
    tx.exec_prepared(kAddActivities, IntArray(activity_projects), IntArray(activity_issues), TextArray(activity_kinds),
                     TextArray(activity_events), TextArray(activity_levels), TextArray(activity_environments),
                     TextArray(activity_tags));
  }
  return result;
}

void WriteDeadLetter(pqxx::transaction_base& tx, const DeadLetterRecord& letter) {
  tx.exec_prepared(kDeadLetter, letter.topic, letter.partition, letter.offset, letter.reason,
                   pqxx::binarystring(letter.payload));
}

}  // namespace

void RenderEventRow(ProcessedEvent& processed) {
  const auto& event = processed.event;
  const auto& raw = processed.raw;
  std::string& line = processed.copy_row;
  line.clear();
  line.reserve(event.storable_json.size() / 3 + 1024);
  db::BinaryRow row(line);
  row.Start(static_cast<std::int16_t>(kEventColumns.size()));
  row.Int64(raw.project_id);
  row.Bytes(raw.event_id.AsBytes());
  row.DateOfMillis(event.timestamp_ms);
  row.TimestampMillis(raw.received_at_ms);
  row.TimestampMillis(event.timestamp_ms);
  for (const std::string* text : {&event.platform, &event.level, &event.title, &event.culprit, &event.environment,
                                  &event.release, &raw.sdk_name, &raw.sdk_version}) {
    row.Bytes(*text);
  }
  if (processed.client_ip.empty() || !row.Inet(processed.client_ip)) row.Null();
  row.TextArray(processed.grouping.hashes);
  thread_local std::string compressed;
  if (db::CompressEventPayload(event.storable_json, compressed)) {
    row.Null();  // data: only rows from before migration 0011 have it
    row.Bytes(compressed);
  } else {
    row.Jsonb(event.storable_json);
    row.Null();
  }
  row.Jsonb(TagsJson(processed));
  // The issue id, last, is appended once the batch has resolved it (InsertEvents).
}

void PrepareStatements(pqxx::connection& connection) {
  connection.prepare(kFindIssue,
                     "SELECT issue_id FROM group_hashes WHERE project_id = $1 AND hash = ANY($2::text[]) "
                     "ORDER BY array_position($2::text[], hash::text) LIMIT 1");
  connection.prepare(kFindIssues,
                     "SELECT g.project_id, rtrim(g.hash), g.issue_id FROM group_hashes g "
                     "JOIN unnest($1::bigint[], $2::text[]) AS k(project_id, hash) "
                     "ON g.project_id = k.project_id AND g.hash = k.hash::bpchar");
  connection.prepare(kHoldIssues, "SELECT id FROM issues WHERE id = ANY($1::bigint[]) ORDER BY id FOR KEY SHARE");
  connection.prepare(kNextShortId,
                     "INSERT INTO project_counters (project_id) VALUES ($1) ON CONFLICT (project_id) "
                     "DO UPDATE SET next_short_id = project_counters.next_short_id + 1 RETURNING next_short_id");
  connection.prepare(
      kCreateIssue,
      "INSERT INTO issues (project_id, short_id, title, culprit, level, type, metadata, first_seen, last_seen, "
      "platform, logger) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::timestamptz, $8::timestamptz, $9, $10) RETURNING id");
  connection.prepare(kClaimHash,
                     "INSERT INTO group_hashes (project_id, hash, issue_id, config) VALUES ($1, $2, $3, $4) "
                     "ON CONFLICT (project_id, hash) DO NOTHING RETURNING issue_id");
  connection.prepare(kDropIssue, "DELETE FROM issues WHERE id = $1");
  // Every hash of an event points at its issue, so later events sharing any of them join it.
  connection.prepare(kAddHashes,
                     "INSERT INTO group_hashes (project_id, hash, issue_id, config) "
                     "SELECT $1, h, $2, $3 FROM unnest($4::text[]) AS h ON CONFLICT (project_id, hash) DO NOTHING");
  connection.prepare(kAttachHashes,
                     "INSERT INTO group_hashes (project_id, hash, issue_id, config) "
                     "SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[]) "
                     "ON CONFLICT (project_id, hash) DO NOTHING");
  // One index probe per event (the key includes the partition key, so only that day's partition).
  connection.prepare(kFindStored,
                     "SELECT k.o FROM unnest($1::bigint[], $2::uuid[], $3::date[]) WITH ORDINALITY AS k(p, e, d, o) "
                     "WHERE EXISTS (SELECT 1 FROM events v WHERE v.project_id = k.p AND v.event_id = k.e "
                     "AND v.day BETWEEN k.d - 1 AND k.d + 1)");
  connection.prepare(kLockIssues,
                     "SELECT id, status, times_seen, user_count, "
                     "(extract(epoch FROM resolved_at) * 1000)::bigint AS resolved_ms, "
                     "(extract(epoch FROM ignore_until) * 1000)::bigint AS ignore_until_ms, "
                     "ignore_until_times_seen, ignore_until_user_count FROM issues WHERE id = ANY($1::bigint[]) "
                     "ORDER BY id FOR NO KEY UPDATE");
  connection.prepare(kAddUsers,
                     "INSERT INTO issue_users (project_id, issue_id, user_key, first_seen) "
                     "SELECT p, i, k, f::timestamptz FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) "
                     "AS u(p, i, k, f) ON CONFLICT DO NOTHING RETURNING issue_id");
  // The issue shows its latest event's title, culprit and metadata, as Sentry's does. A regression or
  // re-surfacing clears the resolution and the ignore conditions.
  connection.prepare(
      kCountEvents,
      "UPDATE issues i SET times_seen = i.times_seen + d.n, user_count = i.user_count + d.users, "
      "first_seen = LEAST(i.first_seen, d.first_seen::timestamptz), "
      "last_seen = GREATEST(i.last_seen, d.last_seen::timestamptz), "
      "title = d.title, culprit = d.culprit, level = d.level, metadata = d.metadata::jsonb, "
      "status = CASE WHEN d.reopen THEN 'unresolved' ELSE i.status END, "
      "resolved_at = CASE WHEN d.reopen THEN NULL ELSE i.resolved_at END, "
      "ignore_until = CASE WHEN d.reopen THEN NULL ELSE i.ignore_until END, "
      "ignore_until_times_seen = CASE WHEN d.reopen THEN NULL ELSE i.ignore_until_times_seen END, "
      "ignore_until_user_count = CASE WHEN d.reopen THEN NULL ELSE i.ignore_until_user_count END, "
      "status_changed_at = CASE WHEN d.reopen THEN now() ELSE i.status_changed_at END "
      "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], "
      "$8::text[], $9::boolean[], $10::text[]) "
      "AS d(id, n, users, first_seen, last_seen, title, culprit, level, reopen, metadata) WHERE i.id = d.id");
  // The same counting for issues still unresolved once locked; the CTE locks them in id order (as
  // kLockIssues does), which an UPDATE's own join would not promise. Under READ COMMITTED the lock
  // re-checks the status on the newest row version, so an issue resolved or ignored meanwhile is
  // neither locked nor counted (nor returned) here, and goes through kLockIssues. So does one whose
  // timed ignore cron has ended (ignore_until kept): its next event re-surfaces it.
  connection.prepare(
      kCountUnresolved,
      "WITH d AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], "
      "  $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[]) "
      "  AS d(id, n, users, first_seen, last_seen, title, culprit, level, reopen, metadata)), "
      "locked AS MATERIALIZED (SELECT i.id FROM issues i JOIN d ON i.id = d.id WHERE i.status = 'unresolved' "
      "  AND i.ignore_until IS NULL ORDER BY i.id FOR NO KEY UPDATE OF i) "
      "UPDATE issues i SET times_seen = i.times_seen + d.n, user_count = i.user_count + d.users, "
      "first_seen = LEAST(i.first_seen, d.first_seen::timestamptz), "
      "last_seen = GREATEST(i.last_seen, d.last_seen::timestamptz), "
      "title = d.title, culprit = d.culprit, level = d.level, metadata = d.metadata::jsonb "
      "FROM d JOIN locked ON locked.id = d.id WHERE i.id = d.id RETURNING i.id");
  connection.prepare(kFoldTagDeltas, "SELECT rookery_fold_tag_deltas($1, $2)");
  connection.prepare(kAnyTagDeltas, "SELECT EXISTS (SELECT 1 FROM issue_tag_deltas)");
  connection.prepare(kCountHours,
                     "INSERT INTO issue_hourly_counts (project_id, issue_id, hour, count) "
                     "SELECT p, i, h::timestamptz, n FROM unnest($1::bigint[], $2::bigint[], $3::text[], "
                     "$4::bigint[]) AS c(p, i, h, n) "
                     "ON CONFLICT (project_id, issue_id, hour) DO UPDATE "
                     "SET count = issue_hourly_counts.count + excluded.count");
  connection.prepare(kAddActivities,
                     "INSERT INTO issue_activities (project_id, issue_id, kind, event_id, level, environment, tags) "
                     "SELECT p, i, k, e::uuid, l, v, t::jsonb FROM unnest($1::bigint[], $2::bigint[], $3::text[], "
                     "$4::text[], $5::text[], $6::text[], $7::text[]) AS a(p, i, k, e, l, v, t)");
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
  // A concurrent worker stored the same event first (see InsertEvents): retried, never final.
  if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) return false;
  return dynamic_cast<const pqxx::data_exception*>(&e) != nullptr ||
         dynamic_cast<const pqxx::integrity_constraint_violation*>(&e) != nullptr;
}

// PostgreSQL's message may quote the refused bytes; a dead letter's reason must itself be storable.
std::string PrintableReason(std::string_view what) {
  std::string reason = "database refused event: ";
  for (char c : what) reason.push_back(static_cast<unsigned char>(c) < 0x80 ? c : '?');
  return reason;
}

void Add(const BatchResult& part, BatchResult& total) {
  total.dead_lettered += part.dead_lettered;
  total.inserted += part.inserted;
  total.duplicates += part.duplicates;
  total.new_issues += part.new_issues;
  total.regressions += part.regressions;
  total.resurfaced += part.resurfaced;
  total.tag_deltas_folded += part.tag_deltas_folded;
  total.tag_fold_failed = total.tag_fold_failed || part.tag_fold_failed;
  total.tag_deltas_left = total.tag_deltas_left || part.tag_deltas_left;
}

// One chunk of the pending tag deltas (at most kFoldChunk rows) folded in the caller's transaction.
// One chunk only: a second, after the first has written tag rows, could wait for a merge that
// waits for those rows. Returns the rows folded, and whether that was all (or another fold holds
// the lock, when not waiting).
constexpr int kFoldChunk = 5'000;  // ~12,000 events' worth: sums in the fold's work_mem

std::pair<std::size_t, bool> FoldChunk(pqxx::transaction_base& tx, bool wait) {
  const int taken = tx.exec_prepared1(kFoldTagDeltas, kFoldChunk, wait)[0].as<int>();
  return {taken > 0 ? static_cast<std::size_t>(taken) : 0, taken < kFoldChunk};
}

// WriteEvents (and the dead letters, if any) in a transaction of its own. A unique violation means
// a concurrent worker stored one of the events between InsertEvents' look-up and its COPY, and has
// committed it (the COPY waited for that): the next attempt's look-up sees it as stored.
BatchResult WriteTransaction(pqxx::connection& connection, const std::vector<const ProcessedEvent*>& events,
                             const std::vector<DeadLetterRecord>& dead_letters, bool fold_tags) {
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    try {
      pqxx::work tx(connection);
      BatchResult result = WriteEvents(tx, events);
      for (const auto& letter : dead_letters) {
        WriteDeadLetter(tx, letter);
        ++result.dead_lettered;
      }
      // Last, so the fold's tag rows stay locked only until the commit just after. In a savepoint:
      // a fold that fails (a statement timeout, a delta row it cannot sum) must not hold up the
      // events; its deltas wait for the next fold, which retries and counts the failure. An
      // explicit savepoint: pqxx 6.4's subtransaction left the transaction aborted after a failed
      // prepared statement, and COMMIT then rolls back without an error.
      if (fold_tags) {
        tx.exec0("SAVEPOINT fold_tags");
        try {
          const auto [folded, all] = FoldChunk(tx, true);
          result.tag_deltas_folded = folded;
          result.tag_deltas_left = !all;
          tx.exec0("RELEASE SAVEPOINT fold_tags");
        } catch (const pqxx::sql_error& e) {
          spdlog::warn("folding tag deltas in the batch failed ({}); left for the next fold", e.what());
          tx.exec0("ROLLBACK TO SAVEPOINT fold_tags");
          result.tag_fold_failed = true;
        }
      }
      tx.commit();
      return result;
    } catch (const pqxx::unique_violation& e) {
      if (attempt == kAttempts) throw;
      spdlog::info("an event of the batch was stored concurrently ({}); writing the batch again", e.what());
    }
  }
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

TagFold FoldTagDeltas(pqxx::connection& connection) {
  constexpr int kMaxChunks = 20;  // then back to the batches; the next fold goes on
  TagFold fold;
  for (int chunk = 0; chunk < kMaxChunks; ++chunk) {
    pqxx::work tx(connection);
    const auto [folded, all] = FoldChunk(tx, false);
    tx.commit();
    fold.folded += folded;
    if (all) break;
  }
  // Rows a merge or another fold held were skipped, and more may have come than 20 chunks.
  pqxx::read_transaction tx(connection);
  fold.pending = tx.exec_prepared1(kAnyTagDeltas)[0].as<bool>();
  return fold;
}

BatchResult WriteBatch(pqxx::connection& connection, BatchWrite& batch) {
  EnsurePartitions(connection, batch);
  for (auto& processed : batch.events) {
    if (processed.copy_row.empty()) RenderEventRow(processed);
  }
  // A stable order (project, hash) makes concurrent workers take row locks in the same order.
  // Pointers are sorted, not the events: moving 500 of those costs more than the comparisons.
  std::vector<const ProcessedEvent*> events;
  events.reserve(batch.events.size());
  for (const auto& processed : batch.events) events.push_back(&processed);
  std::sort(events.begin(), events.end(), [](const ProcessedEvent* a, const ProcessedEvent* b) {
    return std::tie(a->raw.project_id, a->grouping.hashes.front()) <
           std::tie(b->raw.project_id, b->grouping.hashes.front());
  });
  // The common case: the whole batch in one transaction.
  try {
    return WriteTransaction(connection, events, batch.dead_letters, batch.fold_tags);
  } catch (const pqxx::sql_error& e) {
    if (!IsEventDataError(e)) throw;
    spdlog::warn("batch refused by the database ({}); writing its events one by one", e.what());
  }
  // One event refused its data: every event in a transaction of its own, so only that one is
  // dead-lettered. Each write is idempotent, so a crash half way through is replayed safely.
  BatchResult result;
  for (const ProcessedEvent* event : events) {
    const ProcessedEvent& processed = *event;
    try {
      Add(WriteTransaction(connection, {&processed}, {}, false), result);
    } catch (const pqxx::sql_error& e) {
      if (!IsEventDataError(e)) throw;
      spdlog::error("event {} refused by the database, dead-lettered: {}", processed.raw.event_id.ToHex(), e.what());
      batch.dead_letters.push_back(DeadLetterRecord{processed.topic, processed.partition, processed.offset,
                                                    PrintableReason(e.what()),
                                                    RefusedEventPayload(processed.event.storable_json)});
    }
  }
  Add(WriteTransaction(connection, {}, batch.dead_letters, batch.fold_tags), result);
  return result;
}

}  // namespace rookery::worker
