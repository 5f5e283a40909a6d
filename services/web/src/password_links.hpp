// Set-password links: the one an invited member gets (an invited user has no password), and the
// one "Forgot password?" mails. A link is https://rookery/accept/<token>/ or /reset/<token>/; the
// UI page sends the token back in request bodies (never in an API path, which error logs print).
// Only the token's SHA-256 is stored; the mail goes through account_mails, which cron sends.
#pragma once

#include <cstdint>
#include <string>

#include <pqxx/pqxx>

#include "config.hpp"
#include "rookery/http/server.hpp"
#include "router.hpp"

namespace rookery::web {

inline constexpr int kInviteLinkMinutes = 7 * 24 * 60;
inline constexpr int kResetLinkMinutes = 60;

void PreparePasswordLinks(pqxx::connection& connection);

/// A new invitation link for a user without a password, replacing their older links, and its mail
/// queued for cron. Returns the link (the admin's answer shows it, so it works without SMTP).
std::string IssueInviteLink(pqxx::work& tx, std::int64_t user_id, const std::string& email,
                            std::int64_t organization_id, std::int64_t invited_by, const std::string& public_url);

/// POST /api/0/auth/password-reset/ and POST/PUT /api/0/auth/password-link/: need no caller.
http::Response ExecutePasswordLinks(pqxx::connection& connection, const Route& route, const http::Request& request,
                                    const std::string& client_ip, const WebConfig& config);

}  // namespace rookery::web
