#include "api.hpp"

#include <spdlog/spdlog.h>

#include <rapidjson/document.h>
#include <boost/asio/post.hpp>
#include <pqxx/pqxx>

#include <sstream>

#include "api_util.hpp"
#include "issues_api.hpp"
#include "org_api.hpp"
#include "password_links.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/http/response.hpp"
#include "rookery/notify/unsubscribe.hpp"
#include "serialize.hpp"
#include "sessions.hpp"

namespace rookery::web {
namespace {

namespace bhttp = boost::beast::http;

constexpr const char* kProjectName = "web_project_name";
constexpr const char* kMemberOfProject = "web_member_of_project";
constexpr const char* kSetNotification = "web_set_notification";
constexpr const char* kNotificationSettingsOf = "web_notification_settings";

void Prepare(pqxx::connection& c) {
  PrepareSessions(c);
  PrepareOrgApi(c);
  PreparePasswordLinks(c);
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
  PrepareIssuesApi(c);
}

pqxx::connection& ThreadConnection(const db::DatabaseConfig& config) {
  thread_local std::unique_ptr<pqxx::connection> connection;
  if (!connection || !connection->is_open()) {
    connection = db::Connect(config);
    Prepare(*connection);
  }
  return *connection;
}

http::Response NotFound() {
  return http::MakeErrorResponse(http::Status::not_found, "The requested resource does not exist");
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
    if (std::string error; !ParseBody(request.body(), body, error)) {
      return http::MakeErrorResponse(http::Status::bad_request, error);
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
  const bool allowed =
      IsAccountRoute(route.endpoint)
          ? AccountRouteAllows(route.endpoint, std::string_view(incoming.request.method_string().data(),
                                                                incoming.request.method_string().size()))
          : (method == bhttp::verb::get || writes || IssuesApiAllowsMethod(route.endpoint, method));
  if (!allowed) {
    SendSecured(responder, http::MakeErrorResponse(http::Status::method_not_allowed, "Method not allowed"));
    return;
  }
  boost::asio::post(pool_, [this, route = std::move(route), request = std::move(incoming.request),
                            peer_ip = std::move(incoming.peer_ip), responder]() {
    try {
      SendSecured(responder, Execute(route, request, peer_ip));
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

http::Response Api::Execute(const Route& route, const http::Request& request, const std::string& peer_ip) {
  pqxx::connection& connection = ThreadConnection(config_.database);
  if (route.endpoint == Endpoint::kReady) {
    pqxx::read_transaction tx(connection);
    tx.exec("SELECT 1");
    return http::MakeJsonResponse(http::Status::ok, "{\"status\":\"ready\"}");
  }

  // The link in alert mail carries its own signed proof of whom it unsubscribes: no login.
  if (route.endpoint == Endpoint::kUnsubscribe) return Unsubscribe(connection, request, config_.secret_key);

  if (route.endpoint == Endpoint::kAuthSetup || route.endpoint == Endpoint::kAuthLogin) {
    return ExecuteAnonymousAuth(connection, route, request, ClientIp(request, peer_ip, config_.trust_forwarded_for),
                                config_);
  }
  // A set-password link is its own proof of whom it is for.
  if (route.endpoint == Endpoint::kPasswordReset || route.endpoint == Endpoint::kPasswordLink) {
    return ExecutePasswordLinks(connection, route, request, ClientIp(request, peer_ip, config_.trust_forwarded_for),
                                config_);
  }
  auto authenticated = Authenticate(connection, request);
  if (auto* refusal = std::get_if<http::Response>(&authenticated)) return std::move(*refusal);
  const Principal principal = std::get<Principal>(std::move(authenticated));
  if (route.endpoint == Endpoint::kAuthLogout) {
    return ExecuteSessionAuth(connection, route, request, principal, config_);
  }
  // The request moved the session's idle deadline: its cookies are sent again to match.
  http::Response response = ExecuteAs(connection, route, request, principal);
  RenewSessionCookies(response, principal, IsSecure(request, config_));
  return response;
}

http::Response Api::ExecuteAs(pqxx::connection& connection, const Route& route, const http::Request& request,
                              const Principal& principal) {
  if (route.endpoint == Endpoint::kMe) return ExecuteSessionAuth(connection, route, request, principal, config_);
  if (!principal.Has("event:read") && !principal.Has("project:read") && !principal.Has("org:read")) {
    return http::MakeErrorResponse(http::Status::forbidden, "You do not have permission to perform this action.");
  }
  if (IsAccountRoute(route.endpoint)) return ExecuteOrgApi(connection, route, request, principal, config_);
  pqxx::read_transaction tx(connection);

  if (IsIssuesApiEndpoint(route.endpoint)) {
    tx.commit();
    const Caller caller{principal.user_id, [&principal](std::string_view scope) { return principal.Has(scope); }};
    return HandleIssuesApi(connection, route, request, caller, config_.public_url);
  }
  if (route.endpoint == Endpoint::kNotificationSettings) {
    tx.commit();
    return NotificationSettings(connection, principal, request);
  }
  // Everything else was routed above; a route without a handler does not exist.
  return NotFound();
}

}  // namespace rookery::web
