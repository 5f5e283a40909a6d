#include "password_links.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api_util.hpp"
#include "auth.hpp"
#include "rookery/http/response.hpp"
#include "sessions.hpp"

namespace rookery::web {
namespace {

namespace bhttp = boost::beast::http;

constexpr const char* kRetireLinks = "pwl_retire_links";
constexpr const char* kCancelMail = "pwl_cancel_mail";
constexpr const char* kCreateLink = "pwl_create_link";
constexpr const char* kQueueMail = "pwl_queue_mail";
constexpr const char* kLinkByToken = "pwl_link_by_token";
constexpr const char* kSetPassword = "pwl_set_password";
constexpr const char* kEndSessions = "pwl_end_sessions";
constexpr const char* kClearFailures = "pwl_clear_failures";
constexpr const char* kIpLock = "pwl_ip_lock";
constexpr const char* kPruneRequests = "pwl_prune_requests";
constexpr const char* kIpRequests = "pwl_ip_requests";
constexpr const char* kRecordRequest = "pwl_record_request";
constexpr const char* kUserByEmail = "pwl_user_by_email";
constexpr const char* kUserLock = "pwl_user_lock";
constexpr const char* kRecentResets = "pwl_recent_resets";

constexpr int kThrottleWindowMinutes = 15;
constexpr int kMaxRequestsPerIp = 10;    // per window: enough for typos, too few to probe or mail-bomb
constexpr int kMaxResetsPerUser = 3;     // per hour; more requests get the same answer and no mail
constexpr std::size_t kTokenBytes = 32;  // 64 hex characters

// The same words whether or not an account has the address: the answer must not tell.
constexpr const char* kResetAnswer =
    R"({"detail":"If an account uses this email address, a link to set its password is on its way."})";

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool IsToken(std::string_view token) {
  return token.size() == kTokenBytes * 2 && token.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string Issue(pqxx::work& tx, std::int64_t user_id, const std::string& email, const char* kind,
                  std::optional<std::int64_t> organization_id, std::optional<std::int64_t> invited_by, int minutes,
                  const std::string& public_url) {
  // Only the newest link works: an older mail may sit in an inbox someone else reads now.
  tx.exec_prepared(kCancelMail, user_id);
  tx.exec_prepared(kRetireLinks, user_id);
  const std::string token = RandomHex(kTokenBytes);
  const auto link_id =
      tx.exec_prepared1(kCreateLink, token, user_id, kind, organization_id, invited_by, minutes)[0].as<std::int64_t>();
  std::string base = public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string link = base + (std::string_view(kind) == "invite" ? "/accept/" : "/reset/") + token + "/";
  tx.exec_prepared(kQueueMail, link_id, email, link);
  return link;
}

std::optional<std::string> ReadToken(const rapidjson::Value& body, std::string& error) {
  auto token = ReadString(body, "token", 200, error);
  if (!error.empty()) return std::nullopt;
  if (!token || token->empty()) {
    error = "token: This field is required.";
    return std::nullopt;
  }
  return token;
}

http::Response PasswordReset(pqxx::connection& connection, const http::Request& request, const std::string& client_ip,
                             const WebConfig& config) {
  rapidjson::Document body;
  std::string error;
  if (!ParseBody(request.body(), body, error)) return BadRequest(error);
  const auto email = ReadString(body, "email", 254, error);
  if (!error.empty()) return BadRequest(error);
  if (!email || !IsPlausibleEmail(*email)) return BadRequest("email: Enter a valid email address.");
  const std::string lower = Lower(*email);

  pqxx::work tx(connection);
  // One request per address at a time, so a parallel burst cannot all pass the count.
  tx.exec_prepared(kIpLock, client_ip);
  tx.exec_prepared(kPruneRequests, kThrottleWindowMinutes);
  const auto counts = tx.exec_prepared1(kIpRequests, client_ip, kThrottleWindowMinutes);
  if (counts[0].as<int>() >= kMaxRequestsPerIp) {
    tx.commit();
    spdlog::warn("password reset requests throttled for client {}", client_ip);
    http::Response response =
        http::MakeErrorResponse(http::Status::too_many_requests, "Too many requests. Try again later.");
    response.set(bhttp::field::retry_after, std::to_string(std::max<std::int64_t>(1, counts[1].as<std::int64_t>(1))));
    return response;
  }
  tx.exec_prepared(kRecordRequest, client_ip);
  const auto user = tx.exec_prepared(kUserByEmail, lower);
  if (!user.empty()) {
    const auto user_id = user[0][0].as<std::int64_t>();
    tx.exec_prepared(kUserLock, user_id);
    if (tx.exec_prepared1(kRecentResets, user_id)[0].as<int>() < kMaxResetsPerUser) {
      Issue(tx, user_id, user[0][1].as<std::string>(), "reset", std::nullopt, std::nullopt, kResetLinkMinutes,
            config.public_url);
      spdlog::info("password reset link mailed to user {}", user_id);
    } else {
      spdlog::warn("password reset for user {} not mailed: {} links within the hour already", user_id,
                   kMaxResetsPerUser);
    }
  }
  tx.commit();
  return http::MakeJsonResponse(http::Status::accepted, kResetAnswer);
}

// The link's state as the answer to give, or nullopt when it may be used.
std::optional<http::Response> RefuseLink(const pqxx::result& link) {
  if (link.empty()) {
    return http::MakeErrorResponse(http::Status::not_found,
                                   "This link is not valid. Check that it was copied whole, or ask for a new one.");
  }
  if (link[0][3].as<bool>()) {
    return http::MakeErrorResponse(http::Status::gone,
                                   "This link was already used, or a newer one was sent. Ask for a new one.");
  }
  if (link[0][4].as<bool>()) {
    return http::MakeErrorResponse(http::Status::gone, "This link has expired. Ask for a new one.");
  }
  return std::nullopt;
}

http::Response PasswordLink(pqxx::connection& connection, const http::Request& request, const WebConfig& config) {
  rapidjson::Document body;
  std::string error;
  if (!ParseBody(request.body(), body, error)) return BadRequest(error);
  const auto token = ReadToken(body, error);
  if (!token) return BadRequest(error);
  const bool set = request.method() == bhttp::verb::put;
  std::optional<std::string> password;
  if (set) {
    password = ReadPassword(body, error);
    if (!password) return BadRequest(error);
  }

  pqxx::work tx(connection);
  const auto link = IsToken(*token) ? tx.exec_prepared(kLinkByToken, *token) : pqxx::result{};
  if (auto refusal = RefuseLink(link)) return std::move(*refusal);
  const auto user_id = link[0][1].as<std::int64_t>();
  const auto email = link[0][5].as<std::string>();
  if (!set) {
    tx.commit();
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    WriteString(w, "kind", link[0][2].as<std::string>());
    WriteString(w, "email", email);
    w.Key("organization");
    if (link[0][6].is_null()) {
      w.Null();
    } else {
      w.String(link[0][6].c_str());
    }
    WriteTime(w, "expiresAt", link[0][7].as<std::int64_t>());
    w.EndObject();
    return http::MakeJsonResponse(http::Status::ok, buffer.GetString());
  }
  if (!IsLongEnough(*password, error)) return BadRequest(error);
  tx.exec_prepared(kSetPassword, user_id, HashPassword(*password));
  tx.exec_prepared(kCancelMail, user_id);
  tx.exec_prepared(kRetireLinks, user_id);
  // Whoever knew the old password (or holds a stolen session) is signed out everywhere.
  tx.exec_prepared(kEndSessions, user_id);
  tx.exec_prepared(kClearFailures, Lower(email));
  const auto cookies = StartSession(tx, user_id, IsSecure(request, config));
  tx.commit();
  spdlog::info("user {} set a password with a {} link; their other sessions ended", user_id,
               link[0][2].as<std::string>());

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("user");
  WriteUser(w, user_id, email, link[0][8].as<std::string>(), std::nullopt);
  w.EndObject();
  http::Response response = http::MakeJsonResponse(http::Status::ok, buffer.GetString());
  SetCookies(response, cookies);
  return response;
}

}  // namespace

void PreparePasswordLinks(pqxx::connection& c) {
  c.prepare(kRetireLinks, "UPDATE password_links SET used_at = now() WHERE user_id = $1 AND used_at IS NULL");
  c.prepare(kCancelMail,
            "UPDATE account_mails SET status = 'cancelled', link = NULL WHERE status = 'pending' "
            "AND link_id IN (SELECT id FROM password_links WHERE user_id = $1 AND used_at IS NULL)");
  c.prepare(kCreateLink,
            "INSERT INTO password_links (token_hash, user_id, kind, organization_id, invited_by, expires_at) "
            "VALUES (sha256(convert_to($1, 'UTF8')), $2, $3, $4, $5, now() + make_interval(mins => $6)) RETURNING id");
  c.prepare(kQueueMail, "INSERT INTO account_mails (link_id, to_address, link) VALUES ($1, $2, $3)");
  c.prepare(kLinkByToken,
            "SELECT l.id, l.user_id, l.kind, l.used_at IS NOT NULL, l.expires_at <= now(), u.email, o.name, "
            "(extract(epoch FROM l.expires_at) * 1000)::bigint, u.name FROM password_links l "
            "JOIN users u ON u.id = l.user_id LEFT JOIN organizations o ON o.id = l.organization_id "
            "WHERE l.token_hash = sha256(convert_to($1, 'UTF8')) FOR UPDATE OF l");
  c.prepare(kSetPassword, "UPDATE users SET password_hash = $2 WHERE id = $1");
  c.prepare(kEndSessions, "DELETE FROM user_sessions WHERE user_id = $1");
  c.prepare(kClearFailures, "DELETE FROM login_failures WHERE email = $1");
  c.prepare(kIpLock, "SELECT pg_advisory_xact_lock(7007003, hashtext($1))");
  c.prepare(kPruneRequests,
            "DELETE FROM password_reset_requests WHERE requested_at < now() - make_interval(mins => $1)");
  c.prepare(kIpRequests,
            "SELECT count(*), ceil(extract(epoch FROM min(requested_at) + make_interval(mins => $2) - now()))::bigint "
            "FROM password_reset_requests WHERE client_ip = $1 AND requested_at > now() - make_interval(mins => $2)");
  c.prepare(kRecordRequest, "INSERT INTO password_reset_requests (client_ip) VALUES ($1)");
  c.prepare(kUserByEmail, "SELECT id, email FROM users WHERE lower(email) = $1 ORDER BY id LIMIT 1");
  c.prepare(kUserLock, "SELECT pg_advisory_xact_lock(7007004, hashtext($1::text))");
  c.prepare(kRecentResets,
            "SELECT count(*) FROM password_links WHERE user_id = $1 AND kind = 'reset' "
            "AND created_at > now() - interval '1 hour'");
}

std::string IssueInviteLink(pqxx::work& tx, std::int64_t user_id, const std::string& email,
                            std::int64_t organization_id, std::int64_t invited_by, const std::string& public_url) {
  return Issue(tx, user_id, email, "invite", organization_id, invited_by, kInviteLinkMinutes, public_url);
}

http::Response ExecutePasswordLinks(pqxx::connection& connection, const Route& route, const http::Request& request,
                                    const std::string& client_ip, const WebConfig& config) {
  if (route.endpoint == Endpoint::kPasswordReset) return PasswordReset(connection, request, client_ip, config);
  return PasswordLink(connection, request, config);
}

}  // namespace rookery::web
