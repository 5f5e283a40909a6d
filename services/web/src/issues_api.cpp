#include "issues_api.hpp"

#include <spdlog/spdlog.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>

#include "api_util.hpp"
#include "issue_search.hpp"
#include "pagination.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/core/time.hpp"
#include "rookery/db/event_payload.hpp"
#include "rookery/http/response.hpp"
#include "rookery/normalize/event.hpp"
#include "rules_api.hpp"
#include "serialize.hpp"

namespace rookery::web {
namespace {

namespace bhttp = boost::beast::http;

constexpr int kMaxPageSize = 100;
constexpr std::size_t kMaxBulkIds = 100;
constexpr std::size_t kMaxBodyBytes = 64 * 1024;
constexpr int kTopTagValues = 9;  // as Sentry's tag summary
constexpr int kRecomputeBatch = 500;
// Cursor values of timestamp sorts are microseconds since 1970; beyond year 5000 they cannot be
// ours and would overflow PostgreSQL's timestamp arithmetic.
constexpr std::int64_t kMaxCursorMicros = 95'000'000'000'000'000;

constexpr const char* kOrgForMember = "issues_api_org_for_member";
constexpr const char* kProjectForMember = "issues_api_project_for_member";
constexpr const char* kIssueForMember = "issues_api_issue_for_member";
constexpr const char* kLockIssues = "issues_api_lock_issues";
constexpr const char* kLockIssuesToChange = "issues_api_lock_issues_to_change";
constexpr const char* kStats = "issues_api_stats";
constexpr const char* kSetStatus = "issues_api_set_status";
constexpr const char* kFindMember = "issues_api_find_member";
constexpr const char* kSetAssignee = "issues_api_set_assignee";
constexpr const char* kDeleteEvents = "issues_api_delete_events";
constexpr const char* kDeleteIssues = "issues_api_delete_issues";
constexpr const char* kMergeHashes = "issues_api_merge_hashes";
constexpr const char* kMoveEvents = "issues_api_move_events";
constexpr const char* kMergeUsers = "issues_api_merge_users";
constexpr const char* kMergeTags = "issues_api_merge_tags";
constexpr const char* kMergeTagDeltas = "issues_api_merge_tag_deltas";
constexpr const char* kDropTagDeltas = "issues_api_drop_tag_deltas";
constexpr const char* kMergeHours = "issues_api_merge_hours";
constexpr const char* kMergeCounters = "issues_api_merge_counters";
constexpr const char* kEventById = "issues_api_event_by_id";
constexpr const char* kEdgeEvent = "issues_api_edge_event";
constexpr const char* kNeighbourEvents = "issues_api_neighbour_events";
constexpr const char* kHashes = "issues_api_hashes";
constexpr const char* kHashesOwned = "issues_api_hashes_owned";
constexpr const char* kNextShortId = "issues_api_next_short_id";
constexpr const char* kSplitIssue = "issues_api_split_issue";
constexpr const char* kMoveHashes = "issues_api_move_hashes";
constexpr const char* kMoveEventsByHash = "issues_api_move_events_by_hash";
constexpr const char* kClearAggregates = "issues_api_clear_aggregates";
constexpr const char* kRecountHours = "issues_api_recount_hours";
constexpr const char* kEventBatch = "issues_api_event_batch";
constexpr const char* kInsertUsers = "issues_api_insert_users";
constexpr const char* kInsertTags = "issues_api_insert_tags";
constexpr const char* kRecountIssue = "issues_api_recount_issue";
constexpr const char* kRetitle = "issues_api_retitle";
constexpr const char* kTagSummary = "issues_api_tag_summary";

// Columns 0-21 as IssueRow reads them in api.cpp, then the assignee.
constexpr const char* kIssueSelect =
    "SELECT i.id, i.short_id, i.title, i.culprit, i.level, i.type, i.status, i.metadata::text, i.times_seen, "
    "(extract(epoch FROM i.first_seen) * 1000)::bigint, (extract(epoch FROM i.last_seen) * 1000)::bigint, "
    "p.id, p.slug, p.name, coalesce(p.platform, ''), o.slug, i.platform, i.logger, i.user_count, "
    "coalesce((extract(epoch FROM i.ignore_until) * 1000)::bigint, 0), "
    "coalesce(i.ignore_until_times_seen - i.times_seen, 0), coalesce(i.ignore_until_user_count - i.user_count, 0), "
    "coalesce(i.assigned_to, 0), coalesce(u.email, ''), coalesce(u.name, '') ";
// What kIssueSelect reads besides `issues i`.
constexpr const char* kIssueJoins =
    "JOIN projects p ON p.id = i.project_id JOIN organizations o ON o.id = p.organization_id "
    "LEFT JOIN users u ON u.id = i.assigned_to ";

constexpr const char* kEventColumns =
    "replace(e.event_id::text, '-', ''), e.issue_id, e.project_id, e.title, e.culprit, e.platform, e.level, "
    "e.environment, e.release, e.sdk_name, e.sdk_version, coalesce(host(e.client_ip), ''), "
    "(extract(epoch FROM e.timestamp) * 1000)::bigint, (extract(epoch FROM e.received_at) * 1000)::bigint, "
    "e.data::text, e.payload";
// Microseconds since the epoch, exact: cursors compare in the columns' own precision.
constexpr const char* kMicrosFromParam = "(timestamptz 'epoch' + %::bigint * interval '1 microsecond')";

http::Response Error(http::Status status, std::string_view detail) {
  return http::MakeErrorResponse(status, detail);
}
http::Response NotFound() {
  return Error(http::Status::not_found, "The requested resource does not exist");
}
http::Response BadRequest(std::string_view detail) {
  return Error(http::Status::bad_request, detail);
}
http::Response Forbidden() {
  return Error(http::Status::forbidden, "You do not have permission to perform this action.");
}

bool CanWriteIssues(const Caller& caller) {
  return caller.HasAny({"event:write", "event:admin", "project:write", "project:admin", "org:admin"});
}
bool CanDeleteIssues(const Caller& caller) {
  return caller.HasAny({"event:admin", "project:write", "project:admin", "org:admin"});
}

bool ParseInt64(std::string_view text, std::int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string MicrosParam(SqlParams& params, std::int64_t micros) {
  std::string expression = kMicrosFromParam;
  expression.replace(expression.find('%'), 1, params.Add(std::to_string(micros)));
  return expression;
}

// A PostgreSQL array literal ('{"a","b"}') of text, for unnest($n::text[]) and = ANY($n).
std::string ArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += "\"";
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out += "\\";
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}
std::string ArrayLiteral(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i > 0 ? "," : "") + std::to_string(values[i]);
  return out + "}";
}

// "0123…" (32 hex) or a UUID with dashes, lower-cased without dashes; empty when neither.
std::string NormalizeEventId(std::string_view text) {
  std::string hex;
  for (const char c : text) {
    if (c == '-') continue;
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return "";
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return hex.size() == 32 ? hex : "";
}

IssueRow ReadIssue(const pqxx::row& r) {
  IssueRow issue;
  issue.id = r[0].as<std::int64_t>();
  issue.short_id = r[1].as<std::int64_t>();
  issue.title = r[2].as<std::string>();
  issue.culprit = r[3].as<std::string>();
  issue.level = r[4].as<std::string>();
  issue.type = r[5].as<std::string>();
  issue.status = r[6].as<std::string>();
  issue.metadata_json = r[7].as<std::string>();
  issue.times_seen = r[8].as<std::int64_t>();
  issue.first_seen_ms = r[9].as<std::int64_t>();
  issue.last_seen_ms = r[10].as<std::int64_t>();
  issue.project_id = r[11].as<std::int64_t>();
  issue.project_slug = r[12].as<std::string>();
  issue.project_name = r[13].as<std::string>();
  issue.project_platform = r[14].as<std::string>();
  issue.org_slug = r[15].as<std::string>();
  issue.platform = r[16].as<std::string>();
  issue.logger = r[17].as<std::string>();
  issue.user_count = r[18].as<std::int64_t>();
  issue.ignore_until_ms = r[19].as<std::int64_t>();
  issue.ignore_count_left = r[20].as<std::int64_t>();
  issue.ignore_user_count_left = r[21].as<std::int64_t>();
  issue.assignee_id = r[22].as<std::int64_t>();
  issue.assignee_email = r[23].as<std::string>();
  issue.assignee_name = r[24].as<std::string>();
  return issue;
}

// `first`: the column the event's own columns (kEventColumns) start at.
EventRow ReadEvent(const pqxx::row& r, int first = 0) {
  EventRow event;
  event.event_id = r[first + 0].as<std::string>();
  event.issue_id = r[first + 1].as<std::int64_t>();
  event.project_id = r[first + 2].as<std::int64_t>();
  event.title = r[first + 3].as<std::string>();
  event.culprit = r[first + 4].as<std::string>();
  event.platform = r[first + 5].as<std::string>();
  event.level = r[first + 6].as<std::string>();
  event.environment = r[first + 7].as<std::string>();
  event.release = r[first + 8].as<std::string>();
  event.sdk_name = r[first + 9].as<std::string>();
  event.sdk_version = r[first + 10].as<std::string>();
  event.client_ip = r[first + 11].as<std::string>();
  event.timestamp_ms = r[first + 12].as<std::int64_t>();
  event.received_ms = r[first + 13].as<std::int64_t>();
  event.data_json = db::EventJson(r[first + 14], r[first + 15]);
  return event;
}

std::optional<IssueRow> FindIssue(pqxx::transaction_base& tx, std::int64_t issue_id, const Caller& caller) {
  const auto rows = tx.exec_prepared(kIssueForMember, issue_id, caller.user_id);
  if (rows.empty()) return std::nullopt;
  return ReadIssue(rows[0]);
}

// One page of a keyset-paginated list: `items` (JSON) and their cursor positions in query order,
// which is reversed when paging backward; `more` says whether the query found a row past the page.
http::Response JsonPage(std::vector<std::string> items, std::vector<Cursor> positions, bool backward, bool more,
                        const std::optional<Cursor>& requested, const std::string& public_url,
                        std::string_view target) {
  if (backward) {
    std::reverse(items.begin(), items.end());
    std::reverse(positions.begin(), positions.end());
  }
  std::string body = "[";
  for (std::size_t i = 0; i < items.size(); ++i) body += (i > 0 ? "," : "") + items[i];
  body += "]";
  const auto links = LinksForPage(requested, more, positions.empty() ? std::nullopt : std::optional(positions.front()),
                                  positions.empty() ? std::nullopt : std::optional(positions.back()));
  http::Response response = http::MakeJsonResponse(http::Status::ok, std::move(body));
  response.set(bhttp::field::link, LinkHeader(public_url, target, links));
  return response;
}

// -- the issue lists ------------------------------------------------------------------------------

struct SortSpec {
  const char* column;  // compared in keyset conditions
  const char* value;   // the cursor's value of a row (bigint)
  bool timestamp;
};

std::optional<SortSpec> SortFor(std::string_view sort) {
  if (sort.empty() || sort == "date") {
    return SortSpec{"i.last_seen", "(extract(epoch FROM i.last_seen) * 1000000)::bigint", true};
  }
  if (sort == "new") return SortSpec{"i.first_seen", "(extract(epoch FROM i.first_seen) * 1000000)::bigint", true};
  if (sort == "freq") return SortSpec{"i.times_seen", "i.times_seen", false};
  if (sort == "user") return SortSpec{"i.user_count", "i.user_count", false};
  return std::nullopt;
}

struct StatsPeriod {
  std::string key;   // "24h" or "14d": the key of `stats`
  std::string unit;  // bucket: "hour" or "day"
  int buckets = 0;
  std::string window;  // the interval issues must have been seen in
};

std::string LastValue(std::string_view target, std::string_view name) {
  auto values = QueryValues(target, name);
  return values.empty() ? std::string() : values.back();
}

// `stats` for a page of issues: one [bucket start (epoch seconds), events] per bucket, oldest first.
void AddStats(pqxx::transaction_base& tx, const StatsPeriod& period, std::vector<IssueRow>& issues) {
  if (issues.empty()) return;
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> projects;
  for (const auto& issue : issues) {
    ids.push_back(issue.id);
    projects.push_back(issue.project_id);
  }
  std::map<std::int64_t, std::string> series;
  for (const auto& row :
       tx.exec_prepared(kStats, ArrayLiteral(ids), ArrayLiteral(projects), period.unit, period.buckets)) {
    std::string& text = series[row[0].as<std::int64_t>()];
    text += (text.empty() ? "[" : ",") + ("[" + row[1].as<std::string>() + "," + row[2].as<std::string>() + "]");
  }
  for (auto& issue : issues) {
    const std::string& text = series[issue.id];
    // A second period joins the first in the same object.
    if (!issue.stats_json.empty()) issue.stats_json.back() = ',';
    issue.stats_json += (issue.stats_json.empty() ? "{" : "") + http::JsonQuote(period.key) + ":" +
                        (text.empty() ? "[]" : text + "]") + "}";
  }
}

// The issue's own graph, as Sentry's group details carry it: 24 hourly and 30 daily buckets.
void AddDetailStats(pqxx::transaction_base& tx, IssueRow& issue) {
  std::vector<IssueRow> one{std::move(issue)};
  AddStats(tx, StatsPeriod{"24h", "hour", 24, "24 hours"}, one);
  AddStats(tx, StatsPeriod{"30d", "day", 30, "30 days"}, one);
  issue = std::move(one[0]);
}

http::Response ListIssues(pqxx::connection& connection, const Route& route, const http::Request& request,
                          const Caller& caller, const std::string& public_url) {
  const std::string_view target = request.target();
  IssueQuery query;
  // Sentry's default is the unresolved issues; an explicit empty query lists every status.
  const std::string query_text = HasQueryParam(target, "query") ? LastValue(target, "query") : "is:unresolved";
  if (auto error = ParseIssueQuery(query_text, query); !error.empty()) return BadRequest(error);
  const auto sort = SortFor(LastValue(target, "sort"));
  if (!sort) return BadRequest("sort: must be one of date, new, freq, user");
  std::optional<StatsPeriod> period;
  if (const std::string stats = LastValue(target, "statsPeriod"); stats == "24h") {
    period = StatsPeriod{"24h", "hour", 24, "24 hours"};
  } else if (stats == "14d") {
    period = StatsPeriod{"14d", "day", 14, "14 days"};
  } else if (!stats.empty()) {
    return BadRequest("statsPeriod: must be 24h, 14d or empty");
  }
  const auto limit = ParseLimit(target, kMaxPageSize, kMaxPageSize);
  if (!limit) return BadRequest("limit: must be an integer from 1 to 100");
  std::optional<Cursor> cursor;
  if (HasQueryParam(target, "cursor")) {
    cursor = DecodeCursor(LastValue(target, "cursor"));
    std::int64_t id = 0;
    if (!cursor || !ParseInt64(cursor->key, id) ||
        (sort->timestamp && (cursor->value < 0 || cursor->value > kMaxCursorMicros))) {
      return BadRequest("cursor: not a cursor of this list");
    }
  }
  std::vector<std::int64_t> project_filter;
  for (const auto& text : QueryValues(target, "project")) {
    std::int64_t id = 0;
    if (!ParseInt64(text, id)) return BadRequest("project: must be a project id");
    if (id > 0) project_filter.push_back(id);  // Sentry's -1 means all projects
  }

  pqxx::read_transaction tx(connection);
  SqlParams params;
  std::string scope;  // the project, or the organization's projects (`op`)
  if (route.endpoint == Endpoint::kProjectIssues) {
    const auto project = tx.exec_prepared(kProjectForMember, route.org_slug, route.project_slug, caller.user_id);
    if (project.empty()) return NotFound();
    scope = "i.project_id = " + params.Add(project[0][0].as<std::string>()) + "::bigint";
  } else {
    const auto org = tx.exec_prepared(kOrgForMember, route.org_slug, caller.user_id);
    if (org.empty()) return NotFound();
    scope = "op.organization_id = " + params.Add(org[0][0].as<std::string>()) + "::bigint";
    if (!project_filter.empty()) {
      scope += " AND op.id = ANY(" + params.Add(ArrayLiteral(project_filter)) + "::bigint[])";
    }
  }
  std::string conditions;  // over `issues i` alone
  if (auto error = AppendSearchConditions(query, caller.user_id, conditions, params); !error.empty()) {
    return BadRequest(error);
  }
  if (period) conditions += " AND i.last_seen >= now() - " + params.Add(period->window) + "::interval";
  const bool backward = cursor && cursor->backward;
  if (cursor) {
    const std::string value =
        sort->timestamp ? MicrosParam(params, cursor->value) : params.Add(std::to_string(cursor->value)) + "::bigint";
    conditions += std::string(" AND (") + sort->column + ", i.id) " + (backward ? ">" : "<") + " (" + value + ", " +
                  params.Add(cursor->key) + "::bigint)";
  }
  const char* direction = backward ? " ASC" : " DESC";
  const std::string order_limit = std::string(" ORDER BY ") + sort->column + direction + ", i.id" + direction +
                                  " LIMIT " + params.Add(std::to_string(*limit + 1)) + "::bigint";
  std::string sql = std::string(kIssueSelect) + ", " + sort->value + " ";
  if (route.endpoint == Endpoint::kProjectIssues) {
    // The sort's (project_id, …) index, walked until the page is full.
    sql += std::string("FROM issues i ") + kIssueJoins + "WHERE " + scope + conditions + order_limit;
  } else {
    // Each project's first page by its own index, then the best of those: one walk of the whole
    // organization's issues, which has no index in the sort's order, read and sorted every issue
    // (bench/web: 15 ms of CPU for 20,000 issues, against 5 ms this way).
    sql += "FROM (SELECT i.* FROM projects op CROSS JOIN LATERAL (SELECT * FROM issues i WHERE i.project_id = op.id" +
           conditions + order_limit + ") i WHERE " + scope + ") i " + kIssueJoins + order_limit;
  }
  const auto rows = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params.Values()));

  const bool more = static_cast<int>(rows.size()) > *limit;
  std::vector<IssueRow> issues;
  std::vector<Cursor> positions;
  for (int i = 0; i < std::min<int>(*limit, static_cast<int>(rows.size())); ++i) {
    issues.push_back(ReadIssue(rows[i]));
    positions.push_back(Cursor{rows[i][25].as<std::int64_t>(), rows[i][0].as<std::string>(), false});
  }
  if (period) AddStats(tx, *period, issues);
  std::vector<std::string> items;
  for (const auto& issue : issues) items.push_back(SerializeIssue(issue, public_url));
  return JsonPage(std::move(items), std::move(positions), backward, more, cursor, public_url, target);
}

// -- updates --------------------------------------------------------------------------------------

struct IssueUpdate {
  std::optional<std::string> status;
  std::int64_t ignore_minutes = 0;
  std::int64_t ignore_count = 0;
  std::int64_t ignore_user_count = 0;
  bool assign = false;
  std::string assignee;  // empty: unassign
  bool merge = false;
};

// Sentry's issue update body: {"status", "statusDetails": {"ignoreDuration" (minutes),
// "ignoreCount", "ignoreUserCount"}, "assignedTo": user id | email | "user:<id>" | null,
// "merge": 1}. Returns an error message for a 400, or empty.
std::string ParseUpdate(const std::string& body, IssueUpdate& update) {
  if (body.size() > kMaxBodyBytes) return "The request body is too large";
  rapidjson::Document document;
  if (std::string error; !ParseBody(body, document, error)) return error;
  bool understood = false;
  if (const auto status = document.FindMember("status"); status != document.MemberEnd()) {
    if (!status->value.IsString()) return "status: must be a string";
    update.status = status->value.GetString();
    if (*update.status != "resolved" && *update.status != "unresolved" && *update.status != "ignored") {
      return "status: \"" + *update.status + "\" is not a valid choice.";
    }
    understood = true;
  }
  if (const auto details = document.FindMember("statusDetails");
      details != document.MemberEnd() && !details->value.IsNull()) {
    if (!details->value.IsObject()) return "statusDetails: must be an object";
    for (const auto& [name, out] :
         {std::pair{"ignoreDuration", &update.ignore_minutes}, std::pair{"ignoreCount", &update.ignore_count},
          std::pair{"ignoreUserCount", &update.ignore_user_count}}) {
      const auto member = details->value.FindMember(name);
      if (member == details->value.MemberEnd() || member->value.IsNull()) continue;
      if (!member->value.IsInt64() || member->value.GetInt64() <= 0 || member->value.GetInt64() > 1'000'000'000) {
        return std::string("statusDetails.") + name + ": must be a positive integer";
      }
      *out = member->value.GetInt64();
    }
  }
  if (const auto assignee = document.FindMember("assignedTo"); assignee != document.MemberEnd()) {
    update.assign = true;
    understood = true;
    if (assignee->value.IsString()) {
      update.assignee = assignee->value.GetString();
      if (!IsStorableText(update.assignee)) return "assignedTo: must be a user id, an email address or null";
      if (update.assignee.rfind("user:", 0) == 0) update.assignee = update.assignee.substr(5);
      if (update.assignee.size() > 320) return "assignedTo: too long";
    } else if (assignee->value.IsInt64() && assignee->value.GetInt64() > 0) {
      update.assignee = std::to_string(assignee->value.GetInt64());
    } else if (!assignee->value.IsNull()) {
      return "assignedTo: must be a user id, an email address or null";
    }
  }
  if (const auto merge = document.FindMember("merge"); merge != document.MemberEnd()) {
    const auto& v = merge->value;
    update.merge = (v.IsInt() && v.GetInt() == 1) || (v.IsBool() && v.GetBool()) ||
                   (v.IsString() && std::string_view(v.GetString()) == "1");
    if (!update.merge && !(v.IsInt() && v.GetInt() == 0) && !(v.IsBool() && !v.GetBool())) {
      return "merge: must be 1 or true";
    }
    understood = understood || update.merge;
  }
  if (update.merge && (update.status || update.assign)) return "merge: cannot be combined with other changes";
  // Sentry's UI also sends hasSeen, isBookmarked and the like, which Rookery does not keep.
  for (const char* kept_elsewhere : {"hasSeen", "isBookmarked", "isSubscribed", "isPublic"}) {
    if (document.HasMember(kept_elsewhere)) understood = true;
  }
  if (!understood) return "status: This field is required (or assignedTo; merge on an issue list).";
  return "";
}

// Applies status and assignment to issues that are locked and known to be the caller's.
std::optional<http::Response> ApplyUpdate(pqxx::transaction_base& tx, const IssueUpdate& update,
                                          const std::vector<std::int64_t>& ids, std::int64_t project_id,
                                          std::string& assignee_json) {
  const std::string id_array = ArrayLiteral(ids);
  if (update.status) {
    tx.exec_prepared(kSetStatus, id_array, *update.status, update.ignore_minutes, update.ignore_count,
                     update.ignore_user_count);
  }
  if (update.assign) {
    std::int64_t user_id = 0;
    assignee_json = "null";
    if (!update.assignee.empty()) {
      const auto member = tx.exec_prepared(kFindMember, project_id, update.assignee);
      if (member.empty()) {
        return BadRequest("assignedTo: \"" + update.assignee + "\" is not a member of this organization");
      }
      user_id = member[0][0].as<std::int64_t>();
      assignee_json = "{\"type\":\"user\",\"id\":\"" + std::to_string(user_id) +
                      "\",\"email\":" + http::JsonQuote(member[0][1].as<std::string>()) + "}";
    }
    tx.exec_prepared(kSetAssignee, id_array, user_id);
  }
  return std::nullopt;
}

// Deletes issues (locked by the caller) with their events; hashes go by cascade, aggregates by the
// trigger of migration 0013.
void DeleteIssues(pqxx::transaction_base& tx, const std::map<std::int64_t, std::vector<std::int64_t>>& by_project) {
  std::vector<std::int64_t> all;
  for (const auto& [project_id, ids] : by_project) {
    // Events carry no foreign key (they are partitioned): remove them explicitly, by project so
    // each partition's (project_id, issue_id, …) index is used.
    tx.exec_prepared(kDeleteEvents, project_id, ArrayLiteral(ids));
    all.insert(all.end(), ids.begin(), ids.end());
  }
  tx.exec_prepared(kDeleteIssues, ArrayLiteral(all));
}

// Merges into the issue seen first (the oldest), as the issue a team already knows; Sentry picks
// the one with the most events instead. Counters and aggregates are summed exactly.
std::string Merge(pqxx::transaction_base& tx, std::int64_t project_id, const std::vector<std::int64_t>& ordered_ids) {
  const std::int64_t parent = ordered_ids.front();
  const std::vector<std::int64_t> children(ordered_ids.begin() + 1, ordered_ids.end());
  const std::string child_array = ArrayLiteral(children);
  // First: a worker folding the children's pending tag deltas is waited for here, and what it
  // wrote is then read by kMergeTags (a later statement); the deltas still pending count for the
  // parent when folded.
  tx.exec_prepared(kMergeTagDeltas, project_id, parent, child_array);
  tx.exec_prepared(kMergeHashes, project_id, parent, child_array);
  tx.exec_prepared(kMoveEvents, project_id, parent, child_array);
  tx.exec_prepared(kMergeUsers, project_id, parent, child_array);
  tx.exec_prepared(kMergeTags, project_id, parent, child_array);
  tx.exec_prepared(kMergeHours, project_id, parent, child_array);
  tx.exec_prepared(kMergeCounters, project_id, parent, child_array);
  tx.exec_prepared(kDeleteIssues, child_array);
  std::string children_json;
  for (const auto child : children)
    children_json += (children_json.empty() ? "\"" : ",\"") + std::to_string(child) + "\"";
  spdlog::info("merged issues [{}] into {}", children_json, parent);
  return "{\"merge\":{\"parent\":\"" + std::to_string(parent) + "\",\"children\":[" + children_json + "]}}";
}

std::string BulkResultJson(const IssueUpdate& update, const std::string& assignee_json) {
  std::string body = "{";
  if (update.status) {
    body += "\"status\":" + http::JsonQuote(*update.status) + ",\"statusDetails\":{";
    std::string details;
    if (update.ignore_minutes > 0) details += ",\"ignoreDuration\":" + std::to_string(update.ignore_minutes);
    if (update.ignore_count > 0) details += ",\"ignoreCount\":" + std::to_string(update.ignore_count);
    if (update.ignore_user_count > 0) details += ",\"ignoreUserCount\":" + std::to_string(update.ignore_user_count);
    body += (details.empty() ? "" : details.substr(1)) + "}";
  }
  if (update.assign) body += std::string(update.status ? "," : "") + "\"assignedTo\":" + assignee_json;
  return body + "}";
}

// PUT and DELETE on the issue lists, for the issues named by `?id=…` (Sentry also takes a query;
// Rookery wants the ids, so a bulk change never hits more than the caller listed).
http::Response BulkChange(pqxx::connection& connection, const Route& route, const http::Request& request,
                          const Caller& caller) {
  const bool deleting = request.method() == bhttp::verb::delete_;
  if (!(deleting ? CanDeleteIssues(caller) : CanWriteIssues(caller))) return Forbidden();
  std::vector<std::int64_t> ids;
  for (const auto& text : QueryValues(request.target(), "id")) {
    std::int64_t id = 0;
    if (!ParseInt64(text, id) || id <= 0) return BadRequest("id: must be issue ids");
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.empty()) return BadRequest("id: name the issues to change (?id=1&id=2)");
  if (ids.size() > kMaxBulkIds) return BadRequest("id: at most 100 issues at once");
  IssueUpdate update;
  if (!deleting) {
    if (auto error = ParseUpdate(request.body(), update); !error.empty()) return BadRequest(error);
  }

  pqxx::work tx(connection);
  const std::string project_slug = route.endpoint == Endpoint::kProjectIssues ? route.project_slug : "";
  const auto locked = tx.exec_prepared(deleting || update.merge ? kLockIssues : kLockIssuesToChange, ArrayLiteral(ids),
                                       caller.user_id, route.org_slug, project_slug);
  if (locked.size() != ids.size()) return NotFound();
  std::map<std::int64_t, std::vector<std::int64_t>> by_project;
  for (const auto& row : locked) by_project[row[1].as<std::int64_t>()].push_back(row[0].as<std::int64_t>());

  if (deleting) {
    DeleteIssues(tx, by_project);
    tx.commit();
    return http::MakeResponse(http::Status::no_content, "", "application/json");
  }
  if (update.merge) {
    if (ids.size() < 2) return BadRequest("merge: needs at least two issues");
    if (by_project.size() != 1) return BadRequest("merge: the issues must belong to one project");
    std::vector<std::pair<std::int64_t, std::int64_t>> by_age;  // (first seen, id): the parent is the oldest
    for (const auto& row : locked) by_age.emplace_back(row[2].as<std::int64_t>(), row[0].as<std::int64_t>());
    std::sort(by_age.begin(), by_age.end());
    std::vector<std::int64_t> ordered;
    for (const auto& [first_seen, id] : by_age) ordered.push_back(id);
    std::string body = Merge(tx, by_project.begin()->first, ordered);
    tx.commit();
    return http::MakeJsonResponse(http::Status::ok, std::move(body));
  }
  std::string assignee_json;
  for (const auto& [project_id, project_ids] : by_project) {
    if (auto refused = ApplyUpdate(tx, update, project_ids, project_id, assignee_json)) return *refused;
  }
  tx.commit();
  return http::MakeJsonResponse(http::Status::ok, BulkResultJson(update, assignee_json));
}

http::Response OneIssue(pqxx::connection& connection, const Route& route, const http::Request& request,
                        const Caller& caller, const std::string& public_url) {
  const auto method = request.method();
  if (method == bhttp::verb::get) {
    pqxx::read_transaction tx(connection);
    auto issue = FindIssue(tx, route.issue_id, caller);
    if (!issue) return NotFound();
    AddDetailStats(tx, *issue);
    return http::MakeJsonResponse(http::Status::ok, SerializeIssue(*issue, public_url));
  }
  if (!(method == bhttp::verb::delete_ ? CanDeleteIssues(caller) : CanWriteIssues(caller))) return Forbidden();
  IssueUpdate update;
  if (method == bhttp::verb::put) {
    if (auto error = ParseUpdate(request.body(), update); !error.empty()) return BadRequest(error);
    if (update.merge) return BadRequest("merge: use the issue list's bulk update");
  }
  pqxx::work tx(connection);
  const auto locked = tx.exec_prepared(method == bhttp::verb::delete_ ? kLockIssues : kLockIssuesToChange,
                                       ArrayLiteral(std::vector<std::int64_t>{route.issue_id}), caller.user_id, "", "");
  if (locked.empty()) return NotFound();
  const std::int64_t project_id = locked[0][1].as<std::int64_t>();
  if (method == bhttp::verb::delete_) {
    DeleteIssues(tx, {{project_id, {route.issue_id}}});
    tx.commit();
    spdlog::info("deleted issue {}", route.issue_id);
    return http::MakeResponse(http::Status::accepted, "", "application/json");
  }
  std::string assignee_json;
  if (auto refused = ApplyUpdate(tx, update, {route.issue_id}, project_id, assignee_json)) return *refused;
  auto issue = FindIssue(tx, route.issue_id, caller);
  AddDetailStats(tx, *issue);
  tx.commit();
  return http::MakeJsonResponse(http::Status::ok, SerializeIssue(*issue, public_url));
}

// -- events ---------------------------------------------------------------------------------------

// A single event's answer, with the ids of the issue's events before and after it (Sentry's
// previousEventID and nextEventID), by received time, so that a client can step through them.
http::Response EventAnswer(pqxx::transaction_base& tx, const pqxx::row& row) {
  EventRow event = ReadEvent(row);
  event.with_neighbours = true;
  const auto neighbours = tx.exec_prepared(kNeighbourEvents, event.project_id, event.issue_id, event.event_id);
  if (!neighbours.empty()) {
    if (!neighbours[0][0].is_null()) event.previous_event_id = neighbours[0][0].as<std::string>();
    if (!neighbours[0][1].is_null()) event.next_event_id = neighbours[0][1].as<std::string>();
  }
  return http::MakeJsonResponse(http::Status::ok, SerializeEvent(event));
}

http::Response IssueEvent(pqxx::connection& connection, const Route& route, const Caller& caller) {
  pqxx::read_transaction tx(connection);
  const auto issue = FindIssue(tx, route.issue_id, caller);
  if (!issue) return NotFound();
  pqxx::result rows;
  if (route.endpoint == Endpoint::kIssueLatestEvent || route.event_id == "latest") {
    rows = tx.exec_prepared(kEdgeEvent, issue->project_id, issue->id, true);
  } else if (route.event_id == "oldest") {
    rows = tx.exec_prepared(kEdgeEvent, issue->project_id, issue->id, false);
  } else {
    const std::string event_id = NormalizeEventId(route.event_id);
    if (event_id.empty()) return NotFound();
    rows = tx.exec_prepared(kEventById, issue->project_id, event_id, issue->id);
  }
  if (rows.empty()) return NotFound();
  return EventAnswer(tx, rows[0]);
}

http::Response ProjectEvent(pqxx::connection& connection, const Route& route, const Caller& caller) {
  pqxx::read_transaction tx(connection);
  const auto project = tx.exec_prepared(kProjectForMember, route.org_slug, route.project_slug, caller.user_id);
  if (project.empty()) return NotFound();
  const std::string event_id = NormalizeEventId(route.event_id);
  if (event_id.empty()) return NotFound();
  const auto rows = tx.exec_prepared(kEventById, project[0][0].as<std::int64_t>(), event_id, 0);
  if (rows.empty()) return NotFound();
  return EventAnswer(tx, rows[0]);
}

// Newest first, as Sentry lists an issue's events; each event in full.
http::Response IssueEvents(pqxx::connection& connection, const Route& route, const http::Request& request,
                           const Caller& caller, const std::string& public_url) {
  const std::string_view target = request.target();
  const auto limit = ParseLimit(target, kMaxPageSize, kMaxPageSize);
  if (!limit) return BadRequest("limit: must be an integer from 1 to 100");
  std::optional<Cursor> cursor;
  if (HasQueryParam(target, "cursor")) {
    cursor = DecodeCursor(LastValue(target, "cursor"));
    if (!cursor || NormalizeEventId(cursor->key) != cursor->key || cursor->value < 0 ||
        cursor->value > kMaxCursorMicros) {
      return BadRequest("cursor: not a cursor of this list");
    }
  }
  pqxx::read_transaction tx(connection);
  const auto issue = FindIssue(tx, route.issue_id, caller);
  if (!issue) return NotFound();
  SqlParams params;
  std::string sql = std::string("SELECT ") + kEventColumns +
                    ", (extract(epoch FROM e.received_at) * 1000000)::bigint FROM events e WHERE e.project_id = " +
                    params.Add(std::to_string(issue->project_id)) +
                    "::bigint AND e.issue_id = " + params.Add(std::to_string(issue->id)) + "::bigint";
  const bool backward = cursor && cursor->backward;
  if (cursor) {
    sql += std::string(" AND (e.received_at, e.event_id) ") + (backward ? ">" : "<") + " (" +
           MicrosParam(params, cursor->value) + ", " + params.Add(cursor->key) + "::uuid)";
  }
  const char* direction = backward ? " ASC" : " DESC";
  sql += std::string(" ORDER BY e.received_at") + direction + ", e.event_id" + direction + " LIMIT " +
         params.Add(std::to_string(*limit + 1)) + "::bigint";
  const auto rows = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params.Values()));
  const bool more = static_cast<int>(rows.size()) > *limit;
  std::vector<std::string> events;
  std::vector<Cursor> positions;
  for (int i = 0; i < std::min<int>(*limit, static_cast<int>(rows.size())); ++i) {
    events.push_back(SerializeEvent(ReadEvent(rows[i])));
    positions.push_back(Cursor{rows[i][16].as<std::int64_t>(), rows[i][0].as<std::string>(), false});
  }
  return JsonPage(std::move(events), std::move(positions), backward, more, cursor, public_url, target);
}

// -- hashes and unmerge ---------------------------------------------------------------------------

http::Response ListHashes(pqxx::connection& connection, const Route& route, const Caller& caller) {
  pqxx::read_transaction tx(connection);
  const auto issue = FindIssue(tx, route.issue_id, caller);
  if (!issue) return NotFound();
  std::string body = "[";
  for (const auto& row : tx.exec_prepared(kHashes, issue->project_id, issue->id)) {
    if (body.size() > 1) body += ",";
    body += "{\"id\":" + http::JsonQuote(row[0].as<std::string>()) + ",\"latestEvent\":";
    if (row[1].is_null()) {
      body += "null";
    } else {
      body += SerializeEvent(ReadEvent(row, 1));
    }
    body += "}";
  }
  body += "]";
  return http::MakeJsonResponse(http::Status::ok, std::move(body));
}

// Sentry's distinct-user key: the first identifying field of the event's user.
std::string UserKey(const normalize::User& user) {
  if (!user.id.empty()) return "id:" + user.id;
  if (!user.email.empty()) return "email:" + user.email;
  if (!user.username.empty()) return "username:" + user.username;
  if (!user.ip_address.empty()) return "ip:" + user.ip_address;
  return "";
}

// Rebuilds an issue's counters and aggregates from its events, as the worker would have counted
// them: tags and users are derived again by normalizing each stored event (normalization is
// idempotent on its own output), the hours and counters straight from the event rows.
void RecomputeAggregates(pqxx::transaction_base& tx, std::int64_t project_id, std::int64_t issue_id) {
  // The events are counted again below, pending tag deltas included. In its own statement before
  // the clear: a fold that took some of them is waited for, and the clear then sees its rows.
  tx.exec_prepared(kDropTagDeltas, project_id, issue_id);
  tx.exec_prepared(kClearAggregates, project_id, issue_id);
  tx.exec_prepared(kRecountHours, project_id, issue_id);
  struct TagCount {
    std::int64_t count = 0;
    std::int64_t first_ms = 0;
    std::int64_t last_ms = 0;
  };
  std::map<std::string, std::int64_t> users;  // key → first received
  std::map<std::pair<std::string, std::string>, TagCount> tags;
  std::int64_t after_micros = -1;
  std::string after_id = "00000000000000000000000000000000";
  while (true) {
    const auto batch = tx.exec_prepared(kEventBatch, project_id, issue_id, after_micros, after_id, kRecomputeBatch);
    for (const auto& row : batch) {
      const auto received_ms = row[2].as<std::int64_t>();
      const auto timestamp_ms = row[3].as<std::int64_t>();
      normalize::Context context;
      context.received_at_ms = received_ms;
      context.scrubbing.enabled = false;  // stored events are scrubbed already
      auto event = normalize::NormalizeEvent(db::EventJson(row[4], row[5]), context);
      if (!event) continue;
      if (const std::string key = UserKey(event->user); !key.empty()) {
        auto [it, inserted] = users.emplace(key, received_ms);
        if (!inserted) it->second = std::min(it->second, received_ms);
      }
      std::set<std::pair<std::string, std::string>> distinct(event->tags.begin(), event->tags.end());
      for (const auto& tag : distinct) {
        auto [it, inserted] = tags.emplace(tag, TagCount{0, timestamp_ms, timestamp_ms});
        it->second.count += 1;
        it->second.first_ms = std::min(it->second.first_ms, timestamp_ms);
        it->second.last_ms = std::max(it->second.last_ms, timestamp_ms);
      }
    }
    if (static_cast<int>(batch.size()) < kRecomputeBatch) break;
    after_micros = batch[batch.size() - 1][0].as<std::int64_t>();
    after_id = batch[batch.size() - 1][1].as<std::string>();
  }
  std::vector<std::string> user_keys;
  std::vector<std::int64_t> user_firsts;
  for (const auto& [key, first] : users) {
    user_keys.push_back(key);
    user_firsts.push_back(first);
  }
  std::vector<std::string> tag_keys;
  std::vector<std::string> tag_values;
  std::vector<std::int64_t> counts;
  std::vector<std::int64_t> firsts;
  std::vector<std::int64_t> lasts;
  for (const auto& [tag, count] : tags) {
    tag_keys.push_back(tag.first);
    tag_values.push_back(tag.second);
    counts.push_back(count.count);
    firsts.push_back(count.first_ms);
    lasts.push_back(count.last_ms);
  }
  tx.exec_prepared(kInsertUsers, project_id, issue_id, ArrayLiteral(user_keys), ArrayLiteral(user_firsts));
  tx.exec_prepared(kInsertTags, project_id, issue_id, ArrayLiteral(tag_keys), ArrayLiteral(tag_values),
                   ArrayLiteral(counts), ArrayLiteral(firsts), ArrayLiteral(lasts));
  tx.exec_prepared(kRecountIssue, project_id, issue_id);
}

// Moves the events whose primary hash is one of `?id=` to a new issue, with those hashes, so
// later events with them group there too; Sentry does the same (asynchronously) and answers 202.
http::Response Unmerge(pqxx::connection& connection, const Route& route, const http::Request& request,
                       const Caller& caller) {
  if (!CanWriteIssues(caller)) return Forbidden();
  std::vector<std::string> hashes;
  for (const auto& text : QueryValues(request.target(), "id")) {
    std::string hash;
    for (const char c : text) hash.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (hash.size() != 32 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return BadRequest("id: must be hashes of this issue (32 hex digits)");
    }
    hashes.push_back(hash);
  }
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  if (hashes.empty()) return BadRequest("id: name the hashes to unmerge (?id=<hash>)");
  if (hashes.size() > kMaxBulkIds) return BadRequest("id: at most 100 hashes at once");

  pqxx::work tx(connection);
  const auto locked =
      tx.exec_prepared(kLockIssues, ArrayLiteral(std::vector<std::int64_t>{route.issue_id}), caller.user_id, "", "");
  if (locked.empty()) return NotFound();
  const std::int64_t project_id = locked[0][1].as<std::int64_t>();
  const auto owned = tx.exec_prepared1(kHashesOwned, project_id, route.issue_id, ArrayLiteral(hashes));
  if (owned[0].as<std::int64_t>() != static_cast<std::int64_t>(hashes.size())) {
    return BadRequest("id: not every hash belongs to this issue");
  }
  if (owned[1].as<std::int64_t>() == static_cast<std::int64_t>(hashes.size())) {
    return BadRequest("id: an issue must keep at least one hash");
  }
  const auto short_id = tx.exec_prepared1(kNextShortId, project_id)[0].as<std::int64_t>();
  const auto new_id = tx.exec_prepared1(kSplitIssue, route.issue_id, short_id)[0].as<std::int64_t>();
  const std::string hash_array = ArrayLiteral(hashes);
  tx.exec_prepared(kMoveHashes, project_id, hash_array, new_id);
  tx.exec_prepared(kMoveEventsByHash, project_id, route.issue_id, hash_array, new_id);
  tx.exec_prepared(kRetitle, project_id, new_id);
  RecomputeAggregates(tx, project_id, route.issue_id);
  RecomputeAggregates(tx, project_id, new_id);
  tx.commit();
  spdlog::info("unmerged {} hash(es) of issue {} into issue {}", hashes.size(), route.issue_id, new_id);
  return http::MakeJsonResponse(http::Status::accepted, "{\"parent\":\"" + std::to_string(route.issue_id) +
                                                            "\",\"id\":\"" + std::to_string(new_id) + "\"}");
}

// -- tags -----------------------------------------------------------------------------------------

// Sentry's labels for the tags it derives; other keys are shown as they are.
std::string TagName(const std::string& key) {
  static const std::map<std::string, std::string> kNames = {{"level", "Level"},
                                                            {"environment", "Environment"},
                                                            {"release", "Release"},
                                                            {"user", "User"},
                                                            {"server_name", "Server"},
                                                            {"url", "URL"},
                                                            {"browser", "Browser"},
                                                            {"os", "OS"},
                                                            {"runtime", "Runtime"},
                                                            {"device", "Device"},
                                                            {"transaction", "Transaction"},
                                                            {"logger", "Logger"},
                                                            {"handled", "Handled"},
                                                            {"mechanism", "Mechanism"},
                                                            {"dist", "Distribution"},
                                                            {"os.name", "OS Name"},
                                                            {"browser.name", "Browser Name"},
                                                            {"runtime.name", "Runtime Name"}};
  const auto it = kNames.find(key);
  return it == kNames.end() ? key : it->second;
}

std::string TagValueJson(const std::string& key, const pqxx::row& row, int first) {
  return "{\"key\":" + http::JsonQuote(key) + ",\"name\":" + http::JsonQuote(row[first].as<std::string>()) +
         ",\"value\":" + http::JsonQuote(row[first].as<std::string>()) +
         ",\"count\":" + row[first + 1].as<std::string>() +
         ",\"firstSeen\":" + http::JsonQuote(FormatIso8601Millis(row[first + 2].as<std::int64_t>())) +
         ",\"lastSeen\":" + http::JsonQuote(FormatIso8601Millis(row[first + 3].as<std::int64_t>())) + "}";
}

http::Response IssueTags(pqxx::connection& connection, const Route& route, const Caller& caller) {
  pqxx::read_transaction tx(connection);
  const auto issue = FindIssue(tx, route.issue_id, caller);
  if (!issue) return NotFound();
  // Rows: key, total events, distinct values, then the top values (value, count, first, last).
  std::string body = "[";
  std::string current;
  for (const auto& row : tx.exec_prepared(kTagSummary, issue->project_id, issue->id, kTopTagValues)) {
    const std::string key = row[0].as<std::string>();
    if (key != current) {
      if (!current.empty()) body += "]},";
      current = key;
      body += "{\"key\":" + http::JsonQuote(key) + ",\"name\":" + http::JsonQuote(TagName(key)) +
              ",\"totalValues\":" + row[1].as<std::string>() + ",\"uniqueValues\":" + row[2].as<std::string>() +
              ",\"topValues\":[";
    } else {
      body += ",";
    }
    body += TagValueJson(key, row, 3);
  }
  if (!current.empty()) body += "]}";
  body += "]";
  return http::MakeJsonResponse(http::Status::ok, std::move(body));
}

// One key's values, most frequent first (then by value), paginated.
http::Response IssueTagValues(pqxx::connection& connection, const Route& route, const http::Request& request,
                              const Caller& caller, const std::string& public_url) {
  const std::string_view target = request.target();
  const auto limit = ParseLimit(target, kMaxPageSize, kMaxPageSize);
  if (!limit) return BadRequest("limit: must be an integer from 1 to 100");
  std::optional<Cursor> cursor;
  if (HasQueryParam(target, "cursor")) {
    cursor = DecodeCursor(LastValue(target, "cursor"));
    if (!cursor) return BadRequest("cursor: not a cursor of this list");
  }
  pqxx::read_transaction tx(connection);
  const auto issue = FindIssue(tx, route.issue_id, caller);
  if (!issue) return NotFound();
  SqlParams params;
  std::string sql =
      "SELECT t.value, t.times_seen, (extract(epoch FROM t.first_seen) * 1000)::bigint, "
      "(extract(epoch FROM t.last_seen) * 1000)::bigint FROM issue_tag_values t WHERE t.project_id = " +
      params.Add(std::to_string(issue->project_id)) +
      "::bigint AND t.issue_id = " + params.Add(std::to_string(issue->id)) +
      "::bigint AND t.key = " + params.Add(route.tag_key);
  const bool backward = cursor && cursor->backward;
  if (cursor) {
    const std::string count = params.Add(std::to_string(cursor->value)) + "::bigint";
    const std::string value = params.Add(cursor->key);
    sql += backward
               ? " AND (t.times_seen > " + count + " OR (t.times_seen = " + count + " AND t.value < " + value + "))"
               : " AND (t.times_seen < " + count + " OR (t.times_seen = " + count + " AND t.value > " + value + "))";
  }
  sql += backward ? " ORDER BY t.times_seen ASC, t.value DESC" : " ORDER BY t.times_seen DESC, t.value ASC";
  sql += " LIMIT " + params.Add(std::to_string(*limit + 1)) + "::bigint";
  const auto rows = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params.Values()));
  if (rows.empty() && !cursor) {
    if (tx.exec_params("SELECT 1 FROM issue_tag_values WHERE project_id = $1 AND issue_id = $2 AND key = $3 LIMIT 1",
                       issue->project_id, issue->id, route.tag_key)
            .empty()) {
      return NotFound();
    }
  }
  const bool more = static_cast<int>(rows.size()) > *limit;
  std::vector<std::string> values;
  std::vector<Cursor> positions;
  for (int i = 0; i < std::min<int>(*limit, static_cast<int>(rows.size())); ++i) {
    values.push_back(TagValueJson(route.tag_key, rows[i], 0));
    positions.push_back(Cursor{rows[i][1].as<std::int64_t>(), rows[i][0].as<std::string>(), false});
  }
  return JsonPage(std::move(values), std::move(positions), backward, more, cursor, public_url, target);
}

}  // namespace

bool IsIssuesApiEndpoint(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kProjectIssues:
    case Endpoint::kIssue:
    case Endpoint::kIssueLatestEvent:
    case Endpoint::kOrgIssues:
    case Endpoint::kIssueEvents:
    case Endpoint::kIssueEvent:
    case Endpoint::kProjectEvent:
    case Endpoint::kIssueHashes:
    case Endpoint::kIssueTags:
    case Endpoint::kIssueTagValues:
    case Endpoint::kProjectRules:
    case Endpoint::kProjectRule: return true;
    default: return false;
  }
}

bool IssuesApiAllowsMethod(Endpoint endpoint, bhttp::verb method) {
  if (!IsIssuesApiEndpoint(endpoint)) return false;
  if (method == bhttp::verb::get) return true;
  switch (endpoint) {
    case Endpoint::kProjectIssues:
    case Endpoint::kOrgIssues:
    case Endpoint::kIssue:
    case Endpoint::kProjectRule: return method == bhttp::verb::put || method == bhttp::verb::delete_;
    case Endpoint::kIssueHashes: return method == bhttp::verb::put;
    case Endpoint::kProjectRules: return method == bhttp::verb::post;
    default: return false;
  }
}

void PrepareIssuesApi(pqxx::connection& c) {
  c.prepare(kOrgForMember,
            "SELECT o.id FROM organizations o JOIN organization_members m ON m.organization_id = o.id "
            "AND m.user_id = $2 WHERE o.slug = $1");
  c.prepare(kProjectForMember,
            "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id "
            "JOIN organization_members m ON m.organization_id = o.id AND m.user_id = $3 "
            "WHERE o.slug = $1 AND p.slug = $2");
  c.prepare(kIssueForMember, std::string(kIssueSelect) + "FROM issues i " + kIssueJoins +
                                 "JOIN organization_members m ON m.organization_id = o.id AND m.user_id = $2 "
                                 "WHERE i.id = $1");
  // The caller's issues among $1, restricted to an org slug and project slug when given; locked in
  // id order, the order the worker locks them in too, so neither waits for the other in a cycle.
  // FOR UPDATE to merge, unmerge or delete them (a worker batch holding one, FOR KEY SHARE from
  // the start, is waited for); FOR NO KEY UPDATE to change status or assignee, which waits only
  // for the end of a batch counting into them.
  constexpr const char* kLockSelect =
      "SELECT i.id, i.project_id, (extract(epoch FROM i.first_seen) * 1000000)::bigint FROM issues i "
      "JOIN projects p ON p.id = i.project_id JOIN organizations o ON o.id = p.organization_id "
      "JOIN organization_members m ON m.organization_id = o.id AND m.user_id = $2 "
      "WHERE i.id = ANY($1::bigint[]) AND ($3 = '' OR o.slug = $3) AND ($4 = '' OR p.slug = $4) ORDER BY i.id ";
  c.prepare(kLockIssues, std::string(kLockSelect) + "FOR UPDATE OF i");
  c.prepare(kLockIssuesToChange, std::string(kLockSelect) + "FOR NO KEY UPDATE OF i");
  // Each issue's hours inside the window only (an index range scan per issue), summed per bucket,
  // then every bucket of every issue. Joining the buckets to the hours directly read every hour the
  // issue ever had, once per bucket: 150 ms for a page of busy issues over 14 days (bench/web).
  c.prepare(kStats,
            "WITH counts AS (SELECT h.issue_id, date_trunc($3, h.hour, 'UTC') AS bucket, sum(h.count) AS n "
            "FROM unnest($1::bigint[], $2::bigint[]) AS s(issue_id, project_id) "
            "JOIN issue_hourly_counts h ON h.project_id = s.project_id AND h.issue_id = s.issue_id "
            "AND h.hour >= date_trunc($3, now(), 'UTC') - ($4::int - 1) * ('1 ' || $3)::interval "
            "GROUP BY 1, 2) "
            "SELECT s.issue_id, extract(epoch FROM b.bucket)::bigint, coalesce(c.n, 0)::bigint "
            "FROM unnest($1::bigint[]) AS s(issue_id) "
            "CROSS JOIN generate_series(date_trunc($3, now(), 'UTC') - ($4::int - 1) * ('1 ' || $3)::interval, "
            "date_trunc($3, now(), 'UTC'), ('1 ' || $3)::interval) AS b(bucket) "
            "LEFT JOIN counts c ON c.issue_id = s.issue_id AND c.bucket = b.bucket "
            "ORDER BY s.issue_id, b.bucket");
  // Ignore thresholds are absolute (times_seen / user_count to reach), as the worker compares them.
  c.prepare(kSetStatus,
            "UPDATE issues SET status = $2, status_changed_at = now(), "
            "resolved_at = CASE WHEN $2 = 'resolved' THEN now() END, "
            "ignore_until = CASE WHEN $2 = 'ignored' AND $3 > 0 THEN now() + make_interval(mins => $3::int) END, "
            "ignore_until_times_seen = CASE WHEN $2 = 'ignored' AND $4 > 0 THEN times_seen + $4 END, "
            "ignore_until_user_count = CASE WHEN $2 = 'ignored' AND $5 > 0 THEN user_count + $5 END "
            "WHERE id = ANY($1::bigint[])");
  c.prepare(kFindMember,
            "SELECT u.id, u.email FROM users u JOIN organization_members m ON m.user_id = u.id "
            "JOIN projects p ON p.organization_id = m.organization_id "
            "WHERE p.id = $1 AND (u.id::text = $2 OR lower(u.email) = lower($2))");
  c.prepare(kSetAssignee, "UPDATE issues SET assigned_to = NULLIF($2::bigint, 0) WHERE id = ANY($1::bigint[])");
  c.prepare(kDeleteEvents, "DELETE FROM events WHERE project_id = $1 AND issue_id = ANY($2::bigint[])");
  c.prepare(kDeleteIssues, "DELETE FROM issues WHERE id = ANY($1::bigint[])");
  c.prepare(kMergeHashes,
            "UPDATE group_hashes SET issue_id = $2 WHERE project_id = $1 AND issue_id = ANY($3::bigint[])");
  c.prepare(kMoveEvents, "UPDATE events SET issue_id = $2 WHERE project_id = $1 AND issue_id = ANY($3::bigint[])");
  c.prepare(kMergeUsers,
            "INSERT INTO issue_users (project_id, issue_id, user_key, first_seen) "
            "SELECT $1, $2, user_key, min(first_seen) FROM issue_users "
            "WHERE project_id = $1 AND issue_id = ANY($3::bigint[]) GROUP BY user_key "
            "ON CONFLICT (project_id, issue_id, user_key) DO UPDATE SET "
            "first_seen = LEAST(issue_users.first_seen, excluded.first_seen)");
  c.prepare(kMergeTagDeltas,
            "UPDATE issue_tag_deltas SET issue_id = $2 WHERE project_id = $1 AND issue_id = ANY($3::bigint[])");
  c.prepare(kDropTagDeltas, "DELETE FROM issue_tag_deltas WHERE project_id = $1 AND issue_id = $2");
  // In key order, as the worker's tag fold writes them, so the two wait rather than deadlock.
  c.prepare(kMergeTags,
            "INSERT INTO issue_tag_values (project_id, issue_id, key, value, times_seen, first_seen, last_seen) "
            "SELECT $1, $2, key, value, sum(times_seen), min(first_seen), max(last_seen) FROM issue_tag_values "
            "WHERE project_id = $1 AND issue_id = ANY($3::bigint[]) GROUP BY key, value ORDER BY key, value "
            "ON CONFLICT (project_id, issue_id, key, value) DO UPDATE SET "
            "times_seen = issue_tag_values.times_seen + excluded.times_seen, "
            "first_seen = LEAST(issue_tag_values.first_seen, excluded.first_seen), "
            "last_seen = GREATEST(issue_tag_values.last_seen, excluded.last_seen)");
  c.prepare(
      kMergeHours,
      "INSERT INTO issue_hourly_counts (project_id, issue_id, hour, count) "
      "SELECT $1, $2, hour, sum(count) FROM issue_hourly_counts "
      "WHERE project_id = $1 AND issue_id = ANY($3::bigint[]) GROUP BY hour "
      "ON CONFLICT (project_id, issue_id, hour) DO UPDATE SET count = issue_hourly_counts.count + excluded.count");
  // Runs after kMergeUsers, so the parent's distinct users are already the union.
  c.prepare(kMergeCounters,
            "UPDATE issues p SET times_seen = p.times_seen + c.times_seen, "
            "first_seen = LEAST(p.first_seen, c.first_seen), last_seen = GREATEST(p.last_seen, c.last_seen), "
            "user_count = (SELECT count(*) FROM issue_users WHERE project_id = $1 AND issue_id = $2) "
            "FROM (SELECT coalesce(sum(times_seen), 0) AS times_seen, min(first_seen) AS first_seen, "
            "max(last_seen) AS last_seen FROM issues WHERE project_id = $1 AND id = ANY($3::bigint[])) c "
            "WHERE p.id = $2");
  c.prepare(kEventById, std::string("SELECT ") + kEventColumns +
                            " FROM events e WHERE e.project_id = $1 AND e.event_id = $2::uuid "
                            "AND ($3 = 0 OR e.issue_id = $3)");
  c.prepare(kEdgeEvent, std::string("SELECT ") + kEventColumns +
                            " FROM events e WHERE e.project_id = $1 AND e.issue_id = $2 "
                            "ORDER BY CASE WHEN $3 THEN e.received_at END DESC, "
                            "CASE WHEN $3 THEN e.event_id END DESC, "
                            "CASE WHEN NOT $3 THEN e.received_at END ASC, CASE WHEN NOT $3 THEN e.event_id END ASC "
                            "LIMIT 1");
  c.prepare(kNeighbourEvents,
            "WITH cur AS (SELECT received_at, event_id FROM events WHERE project_id = $1 AND issue_id = $2 "
            "AND event_id = $3::uuid LIMIT 1) "
            "SELECT (SELECT replace(e.event_id::text, '-', '') FROM events e, cur WHERE e.project_id = $1 "
            "AND e.issue_id = $2 AND (e.received_at, e.event_id) < (cur.received_at, cur.event_id) "
            "ORDER BY e.received_at DESC, e.event_id DESC LIMIT 1), "
            "(SELECT replace(e.event_id::text, '-', '') FROM events e, cur WHERE e.project_id = $1 "
            "AND e.issue_id = $2 AND (e.received_at, e.event_id) > (cur.received_at, cur.event_id) "
            "ORDER BY e.received_at, e.event_id LIMIT 1)");
  c.prepare(kHashes,
            std::string("SELECT h.hash, ") + kEventColumns +
                " FROM group_hashes h LEFT JOIN LATERAL (SELECT * FROM events x WHERE x.project_id = h.project_id "
                "AND x.issue_id = h.issue_id AND h.hash::text = ANY(x.hashes) "
                "ORDER BY x.received_at DESC LIMIT 1) e ON true "
                "WHERE h.project_id = $1 AND h.issue_id = $2 ORDER BY h.hash LIMIT 100");
  // How many of $3 the issue owns, and how many hashes it has in all.
  c.prepare(kHashesOwned,
            "SELECT count(*) FILTER (WHERE hash::text = ANY($3::text[])), count(*) FROM group_hashes "
            "WHERE project_id = $1 AND issue_id = $2");
  c.prepare(kNextShortId,
            "INSERT INTO project_counters (project_id) VALUES ($1) ON CONFLICT (project_id) "
            "DO UPDATE SET next_short_id = project_counters.next_short_id + 1 RETURNING next_short_id");
  c.prepare(kSplitIssue,
            "INSERT INTO issues (project_id, short_id, title, culprit, level, type, metadata, first_seen, last_seen, "
            "platform, logger) SELECT project_id, $2, title, culprit, level, type, metadata, first_seen, last_seen, "
            "platform, logger FROM issues WHERE id = $1 RETURNING id");
  c.prepare(kMoveHashes, "UPDATE group_hashes SET issue_id = $3 WHERE project_id = $1 AND hash = ANY($2::text[])");
  c.prepare(kMoveEventsByHash,
            "UPDATE events SET issue_id = $4 WHERE project_id = $1 AND issue_id = $2 AND hashes[1] = ANY($3::text[])");
  // The new issue shows its latest event's title, as the worker keeps it.
  c.prepare(kRetitle,
            "UPDATE issues i SET title = e.title, culprit = e.culprit, level = e.level, platform = e.platform "
            "FROM (SELECT title, culprit, level, platform FROM events WHERE project_id = $1 AND issue_id = $2 "
            "ORDER BY received_at DESC LIMIT 1) e WHERE i.id = $2");
  c.prepare(kClearAggregates,
            "WITH u AS (DELETE FROM issue_users WHERE project_id = $1 AND issue_id = $2), "
            "t AS (DELETE FROM issue_tag_values WHERE project_id = $1 AND issue_id = $2) "
            "DELETE FROM issue_hourly_counts WHERE project_id = $1 AND issue_id = $2");
  c.prepare(kRecountHours,
            "INSERT INTO issue_hourly_counts (project_id, issue_id, hour, count) "
            "SELECT $1, $2, date_trunc('hour', timestamp, 'UTC'), count(*) FROM events "
            "WHERE project_id = $1 AND issue_id = $2 GROUP BY 3");
  c.prepare(kEventBatch,
            "SELECT (extract(epoch FROM received_at) * 1000000)::bigint, replace(event_id::text, '-', ''), "
            "(extract(epoch FROM received_at) * 1000)::bigint, (extract(epoch FROM timestamp) * 1000)::bigint, "
            "data::text, payload FROM events WHERE project_id = $1 AND issue_id = $2 "
            "AND (received_at, event_id) > (timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::uuid) "
            "ORDER BY received_at, event_id LIMIT $5");
  c.prepare(kInsertUsers,
            "INSERT INTO issue_users (project_id, issue_id, user_key, first_seen) "
            "SELECT $1, $2, k, timestamptz 'epoch' + f * interval '1 millisecond' "
            "FROM unnest($3::text[], $4::bigint[]) AS u(k, f)");
  c.prepare(kInsertTags,
            "INSERT INTO issue_tag_values (project_id, issue_id, key, value, times_seen, first_seen, last_seen) "
            "SELECT $1, $2, k, v, n, timestamptz 'epoch' + f * interval '1 millisecond', "
            "timestamptz 'epoch' + l * interval '1 millisecond' "
            "FROM unnest($3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[]) AS t(k, v, n, f, l)");
  c.prepare(kRecountIssue,
            "UPDATE issues i SET times_seen = c.n, first_seen = coalesce(c.first, i.first_seen), "
            "last_seen = coalesce(c.last, i.last_seen), "
            "user_count = (SELECT count(*) FROM issue_users WHERE project_id = $1 AND issue_id = $2) "
            "FROM (SELECT count(*) AS n, min(received_at) AS first, max(received_at) AS last FROM events "
            "WHERE project_id = $1 AND issue_id = $2) c WHERE i.id = $2");
  c.prepare(kTagSummary,
            "SELECT key, total, uniq, value, times_seen, (extract(epoch FROM first_seen) * 1000)::bigint, "
            "(extract(epoch FROM last_seen) * 1000)::bigint FROM ("
            "SELECT key, value, times_seen, first_seen, last_seen, "
            "sum(times_seen) OVER (PARTITION BY key) AS total, count(*) OVER (PARTITION BY key) AS uniq, "
            "row_number() OVER (PARTITION BY key ORDER BY times_seen DESC, value) AS rank "
            "FROM issue_tag_values WHERE project_id = $1 AND issue_id = $2) ranked "
            "WHERE rank <= $3 ORDER BY key, rank");
  PrepareRulesApi(c);
}

http::Response HandleIssuesApi(pqxx::connection& connection, const Route& route, const http::Request& request,
                               const Caller& caller, const std::string& public_url) {
  const auto method = request.method();
  for (const std::string* part : {&route.org_slug, &route.project_slug, &route.tag_key, &route.event_id}) {
    if (!IsStorableText(*part)) return NotFound();  // no such slug, key or id can exist
  }
  switch (route.endpoint) {
    case Endpoint::kProjectIssues:
    case Endpoint::kOrgIssues:
      if (method == bhttp::verb::get) return ListIssues(connection, route, request, caller, public_url);
      return BulkChange(connection, route, request, caller);
    case Endpoint::kIssue: return OneIssue(connection, route, request, caller, public_url);
    case Endpoint::kIssueLatestEvent:
    case Endpoint::kIssueEvent: return IssueEvent(connection, route, caller);
    case Endpoint::kIssueEvents: return IssueEvents(connection, route, request, caller, public_url);
    case Endpoint::kProjectEvent: return ProjectEvent(connection, route, caller);
    case Endpoint::kIssueHashes:
      if (method == bhttp::verb::put) return Unmerge(connection, route, request, caller);
      return ListHashes(connection, route, caller);
    case Endpoint::kIssueTags: return IssueTags(connection, route, caller);
    case Endpoint::kIssueTagValues: return IssueTagValues(connection, route, request, caller, public_url);
    case Endpoint::kProjectRules:
    case Endpoint::kProjectRule: return HandleRulesApi(connection, route, request, caller);
    default: return NotFound();
  }
}

}  // namespace rookery::web
