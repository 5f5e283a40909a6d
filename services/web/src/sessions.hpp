// Who is asking: an API token (Authorization: Bearer) or a browser session (cookie + CSRF token),
// and the endpoints that make sessions: first-run setup, login, logout, the current user.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <pqxx/pqxx>

#include "config.hpp"
#include "rookery/http/server.hpp"
#include "router.hpp"

namespace rookery::web {

struct Principal {
  std::int64_t user_id = 0;
  std::string scopes;  // space separated
  bool via_session = false;
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

/// The address login throttling counts: the peer, or X-Forwarded-For's last hop behind a trusted proxy.
std::string ClientIp(const http::Request& request, const std::string& peer_ip, bool trust_forwarded_for);

}  // namespace rookery::web
