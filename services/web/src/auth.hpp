// Pieces of accounts and sessions that need no database: slugs, cookies, secrets, passwords,
// scopes of roles. Kept pure (apart from libsodium) so they are unit-tested on their own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rookery::web {

inline constexpr const char* kSessionCookie = "rookery_session";
inline constexpr const char* kCsrfCookie = "rookery_csrf";
inline constexpr int kSessionIdleDays = 14;
inline constexpr long kSessionIdleSeconds = kSessionIdleDays * 86400L;
inline constexpr std::size_t kMinPasswordChars = 8;
inline constexpr std::size_t kMaxPasswordBytes = 1024;

/// Sentry's slug alphabet (a-z, 0-9, '-', '_'), derived from a name: lower-cased, every other run of
/// characters becomes one '-', at most 50 characters. Empty when nothing of the name is usable.
std::string Slugify(std::string_view name);
/// A slug given by a client: 1 to 50 of [a-z0-9_-], not only digits (it would read as an id).
bool IsValidSlug(std::string_view slug);
/// Something shaped like an email address, at most 254 bytes.
bool IsPlausibleEmail(std::string_view email);

/// One cookie's value from a Cookie header; nullopt when absent.
std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name);
/// Compares secrets in time independent of where they differ; different lengths never match.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

/// `bytes` random bytes, hex encoded.
std::string RandomHex(std::size_t bytes);
/// argon2id with libsodium's interactive limits, in crypto_pwhash_str's self-describing format.
std::string HashPassword(std::string_view password);
bool VerifyPassword(const std::string& hash, std::string_view password);
/// Verifies against a fixed hash, so an unknown email costs what a wrong password does.
void DummyPasswordVerify(std::string_view password);

/// Set-Cookie values for a new session and for logging out.
std::string SessionCookie(const std::string& session_id, bool secure);
std::string CsrfCookie(const std::string& csrf_token, bool secure);
std::string ExpiredCookie(std::string_view name, bool http_only, bool secure);

/// Every scope an API token may carry (Sentry's names).
const std::vector<std::string>& AllScopes();
/// The scopes a role in an organization allows: owner and admin everything; member read, and event:write.
std::vector<std::string> ScopesOfRole(std::string_view role);
bool IsRole(std::string_view role);
/// owner > admin > member.
int RoleRank(std::string_view role);

}  // namespace rookery::web
