#include "api.hpp"

#include <spdlog/spdlog.h>

#include <rapidjson/document.h>
#include <boost/asio/post.hpp>
#include <pqxx/pqxx>

#include <sstream>

#include "rookery/core/strings.hpp"
#include "rookery/http/response.hpp"
#include "rookery/notify/unsubscribe.hpp"
#include "serialize.hpp"

namespace rookery::web {
namespace {

namespace bhttp = boost::beast::http;

constexpr const char* kAuthToken = "web_auth_token";
constexpr const char* kProjectForMember = "web_project_for_member";
constexpr const char* kProjectIssues = "web_project_issues";
constexpr const char* kIssueForMember = "web_issue_for_member";
constexpr const char* kLatestEvent = "web_latest_event";
constexpr const char* kSetIssueStatus = "web_set_issue_status";
constexpr const char* kProjectName = "web_project_name";
constexpr const char* kMemberOfProject = "web_member_of_project";
constexpr const char* kSetNotification = "web_set_notification";
constexpr const char* kNotificationSettingsOf = "web_notification_settings";

constexpr const char* kIssueColumns =
    "i.id, i.short_id, i.title, i.culprit, i.level, i.type, i.status, i.metadata::text, i.times_seen, "
    "(extract(epoch FROM i.first_seen) * 1000)::bigint, (extract(epoch FROM i.last_seen) * 1000)::bigint, "
    "p.id, p.slug, p.name, coalesce(p.platform, ''), o.slug, i.platform, i.logger, i.user_count, "
    "coalesce((extract(epoch FROM i.ignore_until) * 1000)::bigint, 0), "
    "coalesce(i.ignore_until_times_seen - i.times_seen, 0), coalesce(i.ignore_until_user_count - i.user_count, 0)";

void Prepare(pqxx::connection& c) {
  // Only the token's SHA-256 is stored; hashing happens in the database so the comparison is
  // an index lookup.
  c.prepare(kAuthToken,
            "SELECT user_id, array_to_string(scopes, ' ') FROM api_tokens "
            "WHERE token_hash = sha256(convert_to($1, 'UTF8'))");
  c.prepare(kProjectForMember,
            "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id "
            "JOIN organization_members m ON m.organization_id = o.id AND m.user_id = $3 "
            "WHERE o.slug = $1 AND p.slug = $2");
  c.prepare(kProjectIssues, std::string("SELECT ") + kIssueColumns +
                                " FROM issues i JOIN projects p ON p.id = i.project_id "
                                "JOIN organizations o ON o.id = p.organization_id "
                                "WHERE i.project_id = $1 AND ($2 = '' OR i.status = $2) "
                                "ORDER BY i.last_seen DESC, i.id DESC LIMIT $3");
  c.prepare(kIssueForMember, std::string("SELECT ") + kIssueColumns +
                                 " FROM issues i JOIN projects p ON p.id = i.project_id "
                                 "JOIN organizations o ON o.id = p.organization_id "
                                 "JOIN organization_members m ON m.organization_id = o.id AND m.user_id = $2 "
                                 "WHERE i.id = $1");
  c.prepare(kLatestEvent,
            "SELECT replace(event_id::text, '-', ''), issue_id, project_id, title, culprit, platform, level, "
            "environment, release, sdk_name, sdk_version, coalesce(host(client_ip), ''), "
            "(extract(epoch FROM timestamp) * 1000)::bigint, (extract(epoch FROM received_at) * 1000)::bigint, "
            "data::text FROM events WHERE project_id = $2 AND issue_id = $1 "
            "ORDER BY received_at DESC, event_id DESC LIMIT 1");
  // Ignore thresholds are absolute (times_seen / user_count to reach) so the worker compares
  // without knowing when the ignore began.
  c.prepare(kProjectName, "SELECT name FROM projects WHERE id = $1");
  c.prepare(kMemberOfProject,
            "SELECT 1 FROM projects p JOIN organization_members m ON m.organization_id = p.organization_id "
            "WHERE p.id = $1 AND m.user_id = $2");
  c.prepare(kSetNotification,
            "INSERT INTO notification_settings (user_id, project_id, email_alerts) VALUES ($1, $2, $3) "
            "ON CONFLICT (user_id, project_id) DO UPDATE SET email_alerts = excluded.email_alerts");
  c.prepare(kNotificationSettingsOf,
            "SELECT coalesce(project_id, 0), email_alerts FROM notification_settings WHERE user_id = $1 "
            "ORDER BY project_id NULLS FIRST");
  c.prepare(kSetIssueStatus,
            "UPDATE issues SET status = $2, status_changed_at = now(), "
            "resolved_at = CASE WHEN $2 = 'resolved' THEN now() END, "
            "ignore_until = CASE WHEN $2 = 'ignored' AND $3 > 0 THEN now() + make_interval(mins => $3::int) END, "
            "ignore_until_times_seen = CASE WHEN $2 = 'ignored' AND $4 > 0 THEN times_seen + $4 END, "
            "ignore_until_user_count = CASE WHEN $2 = 'ignored' AND $5 > 0 THEN user_count + $5 END "
            "WHERE id = $1");
}

pqxx::connection& ThreadConnection(const db::DatabaseConfig& config) {
  thread_local std::unique_ptr<pqxx::connection> connection;
  if (!connection || !connection->is_open()) {
    connection = db::Connect(config);
    Prepare(*connection);
  }
  return *connection;
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
  return issue;
}

struct Principal {
  std::int64_t user_id = 0;
  std::string scopes;  // space separated
  bool Has(std::string_view scope) const {
    std::istringstream words(scopes);
    std::string word;
    while (words >> word) {
      if (word == scope) return true;
    }
    return false;
  }
};

http::Response NotFound() {
  return http::MakeErrorResponse(http::Status::not_found, "The requested resource does not exist");
}

// `query` as Sentry's issue search takes it; only the status filter is understood so far.
std::string StatusFilter(const http::Request& request) {
  const std::string_view target = request.target();
  if (http::QueryString(target).find("query=") == std::string_view::npos) return "unresolved";  // Sentry's default
  const std::string query = http::QueryParam(target, "query");
  std::istringstream words(query);
  std::string word;
  while (words >> word) {
    if (word == "is:unresolved") return "unresolved";
    if (word == "is:resolved") return "resolved";
    if (word == "is:ignored") return "ignored";
  }
  return "";
}

struct StatusChange {
  std::string status;
  std::int64_t ignore_minutes = 0;
  std::int64_t ignore_count = 0;
  std::int64_t ignore_user_count = 0;
};

// Sentry's issue update body: {"status": "...", "statusDetails": {"ignoreDuration": minutes,
// "ignoreCount": n, "ignoreUserCount": n}}. Returns an error message for a 400, or empty.
std::string ParseStatusChange(const std::string& body, StatusChange& change) {
  rapidjson::Document document;
  document.Parse(body.c_str(), body.size());
  if (document.HasParseError() || !document.IsObject()) return "The request body must be a JSON object";
  const auto status = document.FindMember("status");
  if (status == document.MemberEnd() || !status->value.IsString()) return "status: This field is required.";
  change.status = status->value.GetString();
  if (change.status != "resolved" && change.status != "unresolved" && change.status != "ignored") {
    return "status: \"" + change.status + "\" is not a valid choice.";
  }
  const auto details = document.FindMember("statusDetails");
  if (details == document.MemberEnd() || details->value.IsNull()) return "";
  if (!details->value.IsObject()) return "statusDetails: must be an object";
  const auto read_count = [&details](const char* name, std::int64_t& out) -> std::string {
    const auto member = details->value.FindMember(name);
    if (member == details->value.MemberEnd() || member->value.IsNull()) return "";
    if (!member->value.IsInt64() || member->value.GetInt64() <= 0 || member->value.GetInt64() > 1'000'000'000) {
      return std::string("statusDetails.") + name + ": must be a positive integer";
    }
    out = member->value.GetInt64();
    return "";
  };
  for (const auto& [name, out] :
       {std::pair{"ignoreDuration", &change.ignore_minutes}, std::pair{"ignoreCount", &change.ignore_count},
        std::pair{"ignoreUserCount", &change.ignore_user_count}}) {
    if (auto error = read_count(name, *out); !error.empty()) return error;
  }
  return "";
}

http::Response HtmlPage(http::Status status, std::string_view title, const std::string& body_html) {
  return http::MakeResponse(status,
                            "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + EscapeHtml(title) +
                                "</title></head><body>" + body_html + "</body></html>",
                            "text/html; charset=utf-8");
}

// GET shows what the link will do and asks to confirm (mail scanners follow links; they must not
// unsubscribe anybody); POST applies it, as RFC 8058 one-click unsubscribe posts it.
http::Response Unsubscribe(pqxx::connection& connection, const http::Request& request, const std::string& secret) {
  const std::string token = http::QueryParam(request.target(), "token");
  const auto target = notify::VerifyUnsubscribeToken(secret, token);
  if (!target) {
    return HtmlPage(http::Status::not_found, "Unknown link",
                    "<p>This unsubscribe link is not valid (it may be incomplete, or from another Rookery).</p>");
  }
  pqxx::work tx(connection);
  const auto project = tx.exec_prepared(kProjectName, target->project_id);
  if (project.empty()) return HtmlPage(http::Status::not_found, "Unknown project", "<p>That project is gone.</p>");
  const std::string name = EscapeHtml(project[0][0].as<std::string>());
  if (request.method() != bhttp::verb::post) {
    return HtmlPage(http::Status::ok, "Unsubscribe",
                    "<p>Stop emailing you alerts for <b>" + name +
                        "</b>?</p><form method=\"post\">"
                        "<button type=\"submit\">Unsubscribe</button></form>");
  }
  tx.exec_prepared(kSetNotification, target->user_id, target->project_id, false);
  tx.commit();
  spdlog::info("user {} unsubscribed from alerts for project {}", target->user_id, target->project_id);
  return HtmlPage(http::Status::ok, "Unsubscribed", "<p>You will get no more alert mail for <b>" + name + "</b>.</p>");
}

// {"emailAlerts": bool, "projects": {"<project id>": bool}}; PUT takes {"emailAlerts": bool} for
// every project, or {"project": <id>, "emailAlerts": bool} for one.
http::Response NotificationSettings(pqxx::connection& connection, const Principal& principal,
                                    const http::Request& request) {
  pqxx::work tx(connection);
  if (request.method() == bhttp::verb::put) {
    rapidjson::Document body;
    body.Parse(request.body().c_str(), request.body().size());
    if (body.HasParseError() || !body.IsObject()) {
      return http::MakeErrorResponse(http::Status::bad_request, "The request body must be a JSON object");
    }
    const auto enabled = body.FindMember("emailAlerts");
    if (enabled == body.MemberEnd() || !enabled->value.IsBool()) {
      return http::MakeErrorResponse(http::Status::bad_request, "emailAlerts: must be true or false");
    }
    std::optional<std::int64_t> project_id;
    if (const auto project = body.FindMember("project"); project != body.MemberEnd() && !project->value.IsNull()) {
      if (!project->value.IsInt64())
        return http::MakeErrorResponse(http::Status::bad_request, "project: must be an id");
      project_id = project->value.GetInt64();
      if (tx.exec_prepared(kMemberOfProject, *project_id, principal.user_id).empty()) return NotFound();
    }
    tx.exec_prepared(kSetNotification, principal.user_id, project_id, enabled->value.GetBool());
  }
  bool everywhere = true;
  std::string projects;
  for (const auto& row : tx.exec_prepared(kNotificationSettingsOf, principal.user_id)) {
    const auto project_id = row[0].as<std::int64_t>();
    if (project_id == 0) {
      everywhere = row[1].as<bool>();
    } else {
      projects += (projects.empty() ? "\"" : ",\"") + std::to_string(project_id) +
                  "\":" + (row[1].as<bool>() ? "true" : "false");
    }
  }
  tx.commit();
  return http::MakeJsonResponse(http::Status::ok, std::string("{\"emailAlerts\":") + (everywhere ? "true" : "false") +
                                                      ",\"projects\":{" + projects + "}}");
}

http::Response UpdateIssue(pqxx::connection& connection, std::int64_t issue_id, const Principal& principal,
                           const std::string& body, const std::string& public_url) {
  if (!principal.Has("event:write") && !principal.Has("project:write") && !principal.Has("event:admin")) {
    return http::MakeErrorResponse(http::Status::forbidden, "You do not have permission to perform this action.");
  }
  StatusChange change;
  if (auto error = ParseStatusChange(body, change); !error.empty()) {
    return http::MakeErrorResponse(http::Status::bad_request, error);
  }
  pqxx::work tx(connection);
  if (tx.exec_prepared(kIssueForMember, issue_id, principal.user_id).empty()) return NotFound();
  tx.exec_prepared(kSetIssueStatus, issue_id, change.status, change.ignore_minutes, change.ignore_count,
                   change.ignore_user_count);
  const auto rows = tx.exec_prepared(kIssueForMember, issue_id, principal.user_id);
  tx.commit();
  return http::MakeJsonResponse(http::Status::ok, SerializeIssue(ReadIssue(rows[0]), public_url));
}

// Every answer of rookery-web gets the security headers, the API's JSON included: a response
// that a browser is tricked into rendering must not run anything either.
void SendSecured(const http::Responder& responder, http::Response response) {
  AddSecurityHeaders(response);
  responder.Send(std::move(response));
}

}  // namespace

Api::Api(const WebConfig& config)
    : config_(config), static_files_(config.assets_dir), pool_(static_cast<std::size_t>(config.db_threads)) {}

Api::~Api() {
  Stop();
}

void Api::Stop() {
  pool_.join();
}

void Api::Handle(http::Incoming&& incoming, http::Responder responder) {
  Route route = MatchRoute(incoming.request.target());
  if (route.endpoint == Endpoint::kNotFound && IsUiPath(incoming.request.target())) {
    boost::asio::post(pool_, [this, request = std::move(incoming.request), responder]() {
      try {
        SendSecured(responder, static_files_.Serve(request));
      } catch (const std::exception& e) {
        spdlog::error("web: serving {} failed: {}", std::string(request.target()), e.what());
        SendSecured(responder, http::MakeErrorResponse(http::Status::internal_server_error, "Internal error"));
      }
    });
    return;
  }
  if (route.endpoint == Endpoint::kHealth) {
    SendSecured(responder, http::MakeJsonResponse(http::Status::ok, "{\"status\":\"ok\"}"));
    return;
  }
  if (route.endpoint == Endpoint::kNotFound) {
    SendSecured(responder, NotFound());
    return;
  }
  const auto method = incoming.request.method();
  const bool writes = ((route.endpoint == Endpoint::kIssue || route.endpoint == Endpoint::kNotificationSettings) &&
                       method == bhttp::verb::put) ||
                      (route.endpoint == Endpoint::kUnsubscribe && method == bhttp::verb::post);
  if (incoming.request.method() != bhttp::verb::get && !writes) {
    SendSecured(responder, http::MakeErrorResponse(http::Status::method_not_allowed, "Method not allowed"));
    return;
  }
  boost::asio::post(pool_, [this, route = std::move(route), request = std::move(incoming.request), responder]() {
    try {
      SendSecured(responder, Execute(route, request));
    } catch (const pqxx::broken_connection& e) {
      spdlog::warn("api: database unavailable: {}", e.what());
      http::Response response = http::MakeErrorResponse(http::Status::service_unavailable, "Database unavailable");
      response.set(bhttp::field::retry_after, "5");
      SendSecured(responder, std::move(response));
    } catch (const std::exception& e) {
      spdlog::error("api: {} failed: {}", std::string(request.target()), e.what());
      SendSecured(responder, http::MakeErrorResponse(http::Status::internal_server_error, "Internal error"));
    }
  });
}

http::Response Api::Execute(const Route& route, const http::Request& request) {
  pqxx::connection& connection = ThreadConnection(config_.database);
  if (route.endpoint == Endpoint::kReady) {
    pqxx::read_transaction tx(connection);
    tx.exec("SELECT 1");
    return http::MakeJsonResponse(http::Status::ok, "{\"status\":\"ready\"}");
  }

  // The link in alert mail carries its own signed proof of whom it unsubscribes: no login.
  if (route.endpoint == Endpoint::kUnsubscribe) return Unsubscribe(connection, request, config_.secret_key);

  const std::string_view authorization = request[bhttp::field::authorization];
  if (!StartsWithIgnoreCase(authorization, "bearer ")) {
    return http::MakeErrorResponse(http::Status::unauthorized, "Authentication credentials were not provided.");
  }
  const std::string token(TrimWhitespace(authorization.substr(7)));
  pqxx::read_transaction tx(connection);
  const auto auth = tx.exec_prepared(kAuthToken, token);
  if (auth.empty()) {
    return http::MakeErrorResponse(http::Status::unauthorized, "Invalid token");
  }
  const Principal principal{auth[0][0].as<std::int64_t>(), auth[0][1].as<std::string>()};
  if (!principal.Has("event:read") && !principal.Has("project:read") && !principal.Has("org:read")) {
    return http::MakeErrorResponse(http::Status::forbidden, "You do not have permission to perform this action.");
  }

  if (route.endpoint == Endpoint::kNotificationSettings) {
    tx.commit();
    return NotificationSettings(connection, principal, request);
  }
  if (request.method() == bhttp::verb::put) {
    tx.commit();
    return UpdateIssue(connection, route.issue_id, principal, request.body(), config_.public_url);
  }

  switch (route.endpoint) {
    case Endpoint::kProjectIssues: {
      // Objects of organizations the caller is not a member of do not exist, as far as it can tell.
      const auto project = tx.exec_prepared(kProjectForMember, route.org_slug, route.project_slug, principal.user_id);
      if (project.empty()) return NotFound();
      const auto rows = tx.exec_prepared(kProjectIssues, project[0][0].as<std::int64_t>(), StatusFilter(request), 100);
      std::string body = "[";
      for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i > 0) body += ",";
        body += SerializeIssue(ReadIssue(rows[i]), config_.public_url);
      }
      body += "]";
      return http::MakeJsonResponse(http::Status::ok, std::move(body));
    }
    case Endpoint::kIssue: {
      const auto rows = tx.exec_prepared(kIssueForMember, route.issue_id, principal.user_id);
      if (rows.empty()) return NotFound();
      return http::MakeJsonResponse(http::Status::ok, SerializeIssue(ReadIssue(rows[0]), config_.public_url));
    }
    case Endpoint::kIssueLatestEvent: {
      const auto issue = tx.exec_prepared(kIssueForMember, route.issue_id, principal.user_id);
      if (issue.empty()) return NotFound();
      const std::int64_t project_of_issue = ReadIssue(issue[0]).project_id;
      const auto rows = tx.exec_prepared(kLatestEvent, route.issue_id, project_of_issue);
      if (rows.empty()) return NotFound();
      const auto& r = rows[0];
      EventRow event;
      event.event_id = r[0].as<std::string>();
      event.issue_id = r[1].as<std::int64_t>();
      event.project_id = r[2].as<std::int64_t>();
      event.title = r[3].as<std::string>();
      event.culprit = r[4].as<std::string>();
      event.platform = r[5].as<std::string>();
      event.level = r[6].as<std::string>();
      event.environment = r[7].as<std::string>();
      event.release = r[8].as<std::string>();
      event.sdk_name = r[9].as<std::string>();
      event.sdk_version = r[10].as<std::string>();
      event.client_ip = r[11].as<std::string>();
      event.timestamp_ms = r[12].as<std::int64_t>();
      event.received_ms = r[13].as<std::int64_t>();
      event.data_json = r[14].as<std::string>();
      return http::MakeJsonResponse(http::Status::ok, SerializeEvent(event));
    }
    default: return NotFound();
  }
}

}  // namespace rookery::web
