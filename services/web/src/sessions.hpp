// Who is asking: an API token (Authorization: Bearer) or a browser session (cookie + CSRF token),
// and the endpoints that make sessions: first-run setup, login, logout, the current user.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <optional>
#include <utility>

#include <rapidjson/document.h>
#include <pqxx/pqxx>

#include "api_util.hpp"

#include "config.hpp"
#include "rookery/http/server.hpp"
#include "router.hpp"

namespace rookery::web {

struct Principal {
  std::int64_t user_id = 0;
  std::string scopes;  // space separated
  bool via_session = false;
  std::string session_id;  // with a session: its id and CSRF token, to renew the cookies as it slides
  std::string csrf_token;
  bool Has(std::string_view scope) const;
};

void PrepareSessions(pqxx::connection& connection);

/// Resolves the caller from a Bearer token or else the session cookie. State-changing requests
/// made with a session must carry X-CSRFToken; token requests need not (no browser sends them by itself).
std::variant<Principal, http::Response> Authenticate(pqxx::connection& connection, const http::Request& request);

/// Setup (GET/POST) and login: the endpoints that need no caller.
http::Response ExecuteAnonymousAuth(pqxx::connection& connection, const Route& route, const http::Request& request,
                                    const std::string& client_ip, const WebConfig& config);
/// Logout and /users/me/.
http::Response ExecuteSessionAuth(pqxx::connection& connection, const Route& route, const http::Request& request,
                                  const Principal& principal, const WebConfig& config);

/// Pieces of signing a user in, shared by login, setup and setting a password from a link.
bool IsSecure(const http::Request& request, const WebConfig& config);
/// A new session for the user; returns the Set-Cookie values (session, CSRF).
/// Sends a session's cookies again with a fresh Max-Age, since every request moved its deadline.
void RenewSessionCookies(http::Response& response, const Principal& principal, bool secure);
std::pair<std::string, std::string> StartSession(pqxx::work& tx, std::int64_t user_id, bool secure);
void SetCookies(http::Response& response, const std::pair<std::string, std::string>& cookies);
void WriteUser(JsonWriter& w, std::int64_t id, const std::string& email, const std::string& name,
               std::optional<bool> superuser);
/// body["password"] as sent, at most kMaxPasswordBytes; nullopt with `error` set otherwise.
std::optional<std::string> ReadPassword(const rapidjson::Value& body, std::string& error);
/// A new password's rule: at least kMinPasswordChars characters (not bytes).
bool IsLongEnough(std::string_view password, std::string& error);

/// The address login throttling counts: the peer, or X-Forwarded-For's last hop behind a trusted proxy.
std::string ClientIp(const http::Request& request, const std::string& peer_ip, bool trust_forwarded_for);

}  // namespace rookery::web
