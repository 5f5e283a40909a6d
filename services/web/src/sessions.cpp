#include "sessions.hpp"

#include <spdlog/spdlog.h>

#include <sstream>

#include "api_util.hpp"
#include "auth.hpp"
#include "org_api.hpp"
#include "rookery/core/strings.hpp"
#include "rookery/http/response.hpp"

namespace rookery::web {
namespace {

namespace bhttp = boost::beast::http;

constexpr const char* kTokenAuth = "sess_token_auth";
constexpr const char* kTouchSession = "sess_touch";
constexpr const char* kCreateSession = "sess_create";
constexpr const char* kDeleteSession = "sess_delete";
constexpr const char* kPruneSessions = "sess_prune";
constexpr const char* kAnyUser = "sess_any_user";
constexpr const char* kSetupLock = "sess_setup_lock";
constexpr const char* kCreateUser = "sess_create_user";
constexpr const char* kUserByEmail = "sess_user_by_email";
constexpr const char* kUserById = "sess_user_by_id";
constexpr const char* kEmailLock = "sess_email_lock";
constexpr const char* kPruneFailures = "sess_prune_failures";
constexpr const char* kFailureCounts = "sess_failure_counts";
constexpr const char* kRecordFailure = "sess_record_failure";
constexpr const char* kClearFailures = "sess_clear_failures";

constexpr int kMaxFailuresPerEmail = 10;
constexpr int kMaxFailuresPerIp = 30;
constexpr int kThrottleWindowMinutes = 15;

http::Response Unauthorized(std::string_view detail) {
  return http::MakeErrorResponse(http::Status::unauthorized, detail);
}

bool IsHex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::size_t Utf8Chars(std::string_view text) {
  std::size_t chars = 0;
  for (const char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return chars;
}

http::Response Setup(pqxx::connection& connection, const http::Request& request, const WebConfig& config) {
  if (request.method() == bhttp::verb::get) {
    pqxx::read_transaction tx(connection);
    const bool needs_setup = tx.exec_prepared(kAnyUser).empty();
    return http::MakeJsonResponse(http::Status::ok,
                                  std::string("{\"needsSetup\":") + (needs_setup ? "true" : "false") + "}");
  }
  rapidjson::Document body;
  std::string error;
  if (!ParseBody(request.body(), body, error)) return BadRequest(error);
  auto email = ReadString(body, "email", 254, error);
  auto password = error.empty() ? ReadPassword(body, error) : std::nullopt;
  auto name = error.empty() ? ReadString(body, "name", 200, error) : std::nullopt;
  auto organization = error.empty() ? ReadString(body, "organization", 200, error) : std::nullopt;
  if (!error.empty()) return BadRequest(error);
  if (!email || !IsPlausibleEmail(*email)) return BadRequest("email: Enter a valid email address.");
  if (!IsLongEnough(*password, error)) return BadRequest(error);
  if (!organization || organization->empty()) return BadRequest("organization: This field is required.");
  const std::string lower_email = [&] {
    std::string lower = *email;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower;
  }();
  const std::string hash = HashPassword(*password);

  pqxx::work tx(connection);
  // Two setups racing must not both create a superuser.
  tx.exec_prepared(kSetupLock);
  if (!tx.exec_prepared(kAnyUser).empty()) {
    return http::MakeErrorResponse(http::Status::forbidden, "Setup is already complete.");
  }
  const std::string user_name = name.value_or("");
  const auto user_id = tx.exec_prepared(kCreateUser, lower_email, user_name, hash)[0][0].as<std::int64_t>();
  const OrgRow org = CreateOrganization(tx, *organization, user_id);
  const auto cookies = StartSession(tx, user_id, IsSecure(request, config));
  tx.commit();
  spdlog::info("setup: created the first user {} and organization {}", user_id, org.slug);

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("user");
  WriteUser(w, user_id, lower_email, user_name, true);
  w.Key("organization");
  WriteOrganization(w, org);
  w.EndObject();
  http::Response response = http::MakeJsonResponse(http::Status::created, buffer.GetString());
  SetCookies(response, cookies);
  return response;
}

http::Response Login(pqxx::connection& connection, const http::Request& request, const std::string& client_ip,
                     const WebConfig& config) {
  rapidjson::Document body;
  std::string error;
  if (!ParseBody(request.body(), body, error)) return BadRequest(error);
  auto email = ReadString(body, "email", 254, error);
  if (!error.empty()) return BadRequest(error);
  if (!email || email->empty()) return BadRequest("email: This field is required.");
  const auto password = ReadPassword(body, error);
  if (!password) return BadRequest(error);
  std::string email_key = *email;
  for (char& c : email_key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  pqxx::work tx(connection);
  // One attempt per email at a time, so a burst of parallel guesses cannot all pass the count.
  tx.exec_prepared(kEmailLock, email_key);
  tx.exec_prepared(kPruneFailures, kThrottleWindowMinutes);
  const auto counts = tx.exec_prepared(kFailureCounts, email_key, client_ip, kThrottleWindowMinutes);
  const auto email_failures = counts[0][0].as<int>();
  const auto ip_failures = counts[0][1].as<int>();
  if (email_failures >= kMaxFailuresPerEmail || ip_failures >= kMaxFailuresPerIp) {
    const auto retry_after =
        email_failures >= kMaxFailuresPerEmail ? counts[0][2].as<std::int64_t>(1) : counts[0][3].as<std::int64_t>(1);
    tx.commit();
    spdlog::warn("login throttled for client {}", client_ip);
    http::Response response =
        http::MakeErrorResponse(http::Status::too_many_requests, "Too many failed logins. Try again later.");
    response.set(bhttp::field::retry_after, std::to_string(std::max<std::int64_t>(1, retry_after)));
    return response;
  }

  const auto user = tx.exec_prepared(kUserByEmail, email_key);
  bool ok = false;
  if (user.empty() || user[0][3].is_null()) {
    DummyPasswordVerify(*password);
  } else {
    ok = VerifyPassword(user[0][3].as<std::string>(), *password);
  }
  if (!ok) {
    tx.exec_prepared(kRecordFailure, email_key, client_ip);
    tx.commit();
    return Unauthorized("Invalid email or password");
  }
  const auto user_id = user[0][0].as<std::int64_t>();
  tx.exec_prepared(kClearFailures, email_key);
  const auto cookies = StartSession(tx, user_id, IsSecure(request, config));
  tx.commit();
  spdlog::info("user {} logged in", user_id);

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("user");
  WriteUser(w, user_id, user[0][1].as<std::string>(), user[0][2].as<std::string>(), std::nullopt);
  w.EndObject();
  http::Response response = http::MakeJsonResponse(http::Status::ok, buffer.GetString());
  SetCookies(response, cookies);
  return response;
}

}  // namespace

bool IsSecure(const http::Request& request, const WebConfig& config) {
  return EqualsIgnoreCase(TrimWhitespace(request["X-Forwarded-Proto"]), "https") ||
         StartsWithIgnoreCase(config.public_url, "https:");
}

std::pair<std::string, std::string> StartSession(pqxx::work& tx, std::int64_t user_id, bool secure) {
  const std::string session_id = RandomHex(32);
  const std::string csrf_token = RandomHex(32);
  tx.exec_prepared(kPruneSessions);
  tx.exec_prepared(kCreateSession, session_id, user_id, csrf_token, kSessionIdleDays);
  return {SessionCookie(session_id, secure), CsrfCookie(csrf_token, secure)};
}

void RenewSessionCookies(http::Response& response, const Principal& principal, bool secure) {
  if (!principal.via_session || response.count(bhttp::field::set_cookie) > 0) return;
  SetCookies(response, {SessionCookie(principal.session_id, secure), CsrfCookie(principal.csrf_token, secure)});
}

void SetCookies(http::Response& response, const std::pair<std::string, std::string>& cookies) {
  response.insert(bhttp::field::set_cookie, cookies.first);
  response.insert(bhttp::field::set_cookie, cookies.second);
  response.set(bhttp::field::cache_control, "no-store");
}

void WriteUser(JsonWriter& w, std::int64_t id, const std::string& email, const std::string& name,
               std::optional<bool> superuser) {
  w.StartObject();
  WriteIdString(w, "id", id);
  WriteString(w, "email", email);
  WriteString(w, "name", name);
  if (superuser) {
    w.Key("isSuperuser");
    w.Bool(*superuser);
  }
  w.EndObject();
}

// The password exactly as sent: spaces at either end are part of it.
std::optional<std::string> ReadPassword(const rapidjson::Value& body, std::string& error) {
  const auto member = body.FindMember("password");
  if (member == body.MemberEnd() || !member->value.IsString()) {
    error = "password: This field is required.";
    return std::nullopt;
  }
  std::string password(member->value.GetString(), member->value.GetStringLength());
  if (password.size() > kMaxPasswordBytes) {
    error = "password: must be at most " + std::to_string(kMaxPasswordBytes) + " bytes";
    return std::nullopt;
  }
  return password;
}

bool IsLongEnough(std::string_view password, std::string& error) {
  if (Utf8Chars(password) >= kMinPasswordChars) return true;
  error = "password: must be at least " + std::to_string(kMinPasswordChars) + " characters";
  return false;
}

bool Principal::Has(std::string_view scope) const {
  std::istringstream words(scopes);
  std::string word;
  while (words >> word) {
    if (word == scope) return true;
  }
  return false;
}

void PrepareSessions(pqxx::connection& c) {
  // Only hashes of tokens and session ids are stored; hashing in the database keeps the lookup an
  // index probe.
  c.prepare(kTokenAuth,
            "SELECT user_id, array_to_string(scopes, ' ') FROM api_tokens "
            "WHERE token_hash = sha256(convert_to($1, 'UTF8'))");
  // Every request moves the idle deadline; the highest role decides the session's scopes, the
  // role in each organization still limits what may be done there.
  c.prepare(kTouchSession,
            "UPDATE user_sessions s SET last_seen_at = now(), expires_at = now() + make_interval(days => $2) "
            "WHERE id_hash = sha256(convert_to($1, 'UTF8')) AND expires_at > now() "
            "RETURNING s.user_id, s.csrf_token, coalesce((SELECT m.role FROM organization_members m "
            "WHERE m.user_id = s.user_id ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END "
            "LIMIT 1), 'member')");
  c.prepare(kCreateSession,
            "INSERT INTO user_sessions (id_hash, user_id, csrf_token, expires_at) "
            "VALUES (sha256(convert_to($1, 'UTF8')), $2, $3, now() + make_interval(days => $4))");
  c.prepare(kDeleteSession, "DELETE FROM user_sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))");
  c.prepare(kPruneSessions, "DELETE FROM user_sessions WHERE expires_at < now()");
  c.prepare(kAnyUser, "SELECT 1 FROM users LIMIT 1");
  c.prepare(kSetupLock, "SELECT pg_advisory_xact_lock(7007001)");
  c.prepare(kCreateUser,
            "INSERT INTO users (email, name, password_hash, is_superuser) VALUES ($1, $2, $3, true) RETURNING id");
  c.prepare(kUserByEmail,
            "SELECT id, email, name, password_hash FROM users WHERE lower(email) = $1 ORDER BY id LIMIT 1");
  c.prepare(kUserById, "SELECT id, email, name, is_superuser FROM users WHERE id = $1");
  c.prepare(kEmailLock, "SELECT pg_advisory_xact_lock(7007002, hashtext($1))");
  c.prepare(kPruneFailures, "DELETE FROM login_failures WHERE attempted_at < now() - make_interval(mins => $1)");
  c.prepare(kFailureCounts,
            "WITH e AS (SELECT attempted_at FROM login_failures WHERE email = $1 "
            "           AND attempted_at > now() - make_interval(mins => $3)), "
            "     i AS (SELECT attempted_at FROM login_failures WHERE client_ip = $2 "
            "           AND attempted_at > now() - make_interval(mins => $3)) "
            "SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM i), "
            "ceil(extract(epoch FROM (SELECT min(attempted_at) FROM e) + make_interval(mins => $3) - now()))::bigint, "
            "ceil(extract(epoch FROM (SELECT min(attempted_at) FROM i) + make_interval(mins => $3) - now()))::bigint");
  c.prepare(kRecordFailure, "INSERT INTO login_failures (email, client_ip) VALUES ($1, $2)");
  c.prepare(kClearFailures, "DELETE FROM login_failures WHERE email = $1");
}

std::variant<Principal, http::Response> Authenticate(pqxx::connection& connection, const http::Request& request) {
  const std::string_view authorization = request[bhttp::field::authorization];
  if (StartsWithIgnoreCase(authorization, "bearer ")) {
    const std::string token(TrimWhitespace(authorization.substr(7)));
    pqxx::read_transaction tx(connection);
    const auto auth = tx.exec_prepared(kTokenAuth, token);
    if (auth.empty()) return Unauthorized("Invalid token");
    return Principal{auth[0][0].as<std::int64_t>(), auth[0][1].as<std::string>(), false, "", ""};
  }
  const auto session_id = CookieValue(request[bhttp::field::cookie], kSessionCookie);
  if (!session_id) return Unauthorized("Authentication credentials were not provided.");
  if (session_id->size() != 64 || !IsHex(*session_id)) return Unauthorized("Invalid or expired session");
  pqxx::work tx(connection);
  const auto session = tx.exec_prepared(kTouchSession, *session_id, kSessionIdleDays);
  tx.commit();
  if (session.empty()) return Unauthorized("Invalid or expired session");
  const auto method = request.method();
  if (method != bhttp::verb::get && method != bhttp::verb::head && method != bhttp::verb::options) {
    // A cross-site page can make the browser send the cookie, but cannot read the CSRF cookie to
    // echo it in a header.
    if (!ConstantTimeEquals(TrimWhitespace(request["X-CSRFToken"]), session[0][1].as<std::string>())) {
      return http::MakeErrorResponse(http::Status::forbidden, "CSRF token missing or incorrect");
    }
  }
  Principal principal{session[0][0].as<std::int64_t>(), "", true, *session_id, session[0][1].as<std::string>()};
  for (const auto& scope : ScopesOfRole(session[0][2].as<std::string>())) {
    principal.scopes += (principal.scopes.empty() ? "" : " ") + scope;
  }
  return principal;
}

http::Response ExecuteAnonymousAuth(pqxx::connection& connection, const Route& route, const http::Request& request,
                                    const std::string& client_ip, const WebConfig& config) {
  if (route.endpoint == Endpoint::kAuthSetup) return Setup(connection, request, config);
  return Login(connection, request, client_ip, config);
}

http::Response ExecuteSessionAuth(pqxx::connection& connection, const Route& route, const http::Request& request,
                                  const Principal& principal, const WebConfig& config) {
  if (route.endpoint == Endpoint::kAuthLogout) {
    if (principal.via_session) {
      pqxx::work tx(connection);
      tx.exec_prepared(kDeleteSession, CookieValue(request[bhttp::field::cookie], kSessionCookie).value_or(""));
      tx.commit();
    }
    http::Response response = NoContent();
    const bool secure = IsSecure(request, config);
    SetCookies(response, {ExpiredCookie(kSessionCookie, true, secure), ExpiredCookie(kCsrfCookie, false, secure)});
    return response;
  }
  pqxx::read_transaction tx(connection);
  const auto user = tx.exec_prepared(kUserById, principal.user_id);
  if (user.empty()) return Unauthorized("Invalid token");
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteUser(w, user[0][0].as<std::int64_t>(), user[0][1].as<std::string>(), user[0][2].as<std::string>(),
            user[0][3].as<bool>());
  return http::MakeJsonResponse(http::Status::ok, buffer.GetString());
}

std::string ClientIp(const http::Request& request, const std::string& peer_ip, bool trust_forwarded_for) {
  if (trust_forwarded_for) {
    const std::string_view forwarded = request["X-Forwarded-For"];
    const std::size_t comma = forwarded.rfind(',');
    const std::string_view last =
        TrimWhitespace(comma == std::string_view::npos ? forwarded : forwarded.substr(comma + 1));
    if (!last.empty() && last.size() <= 64) return std::string(last);
  }
  return peer_ip;
}

}  // namespace rookery::web
