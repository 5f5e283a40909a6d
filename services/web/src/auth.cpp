#include "auth.hpp"

#include <sodium.h>

#include <stdexcept>

namespace rookery::web {
namespace {

void InitSodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialize");
}

std::string CookieAttributes(bool http_only, bool secure) {
  std::string attributes;
  if (http_only) attributes += "; HttpOnly";
  attributes += "; SameSite=Lax; Path=/";
  if (secure) attributes += "; Secure";
  return attributes;
}

}  // namespace

std::string Slugify(std::string_view name) {
  std::string slug;
  bool dash = false;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '_') {
      if (dash && !slug.empty()) slug += '-';
      dash = false;
      slug += c;
    } else if (u >= 'A' && u <= 'Z') {
      if (dash && !slug.empty()) slug += '-';
      dash = false;
      slug += static_cast<char>(u - 'A' + 'a');
    } else {
      dash = true;
    }
    if (slug.size() >= 50) break;
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (!slug.empty() && slug.find_first_not_of("0123456789") == std::string::npos) slug = "n" + slug.substr(0, 49);
  return slug;
}

bool IsValidSlug(std::string_view slug) {
  if (slug.empty() || slug.size() > 50) return false;
  bool all_digits = true;
  for (const char c : slug) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit && !(c >= 'a' && c <= 'z') && c != '-' && c != '_') return false;
    all_digits = all_digits && digit;
  }
  return !all_digits;
}

bool IsPlausibleEmail(std::string_view email) {
  if (email.size() < 3 || email.size() > 254) return false;
  const std::size_t at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == email.size() || email.find('@', at + 1) != email.npos) {
    return false;
  }
  for (const char c : email) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',' || c == ';') return false;
  }
  return true;
}

std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    const std::size_t semicolon = cookie_header.find(';');
    std::string_view pair = cookie_header.substr(0, semicolon);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    while (!pair.empty() && (pair.back() == ' ' || pair.back() == '\t')) pair.remove_suffix(1);
    const std::size_t equals = pair.find('=');
    if (equals != std::string_view::npos && pair.substr(0, equals) == name) {
      std::string_view value = pair.substr(equals + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      return std::string(value);
    }
    if (semicolon == std::string_view::npos) break;
    cookie_header.remove_prefix(semicolon + 1);
  }
  return std::nullopt;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

std::string RandomHex(std::size_t bytes) {
  InitSodium();
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

std::string HashPassword(std::string_view password) {
  InitSodium();
  char hashed[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hashed, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return hashed;
}

bool VerifyPassword(const std::string& hash, std::string_view password) {
  InitSodium();
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

void DummyPasswordVerify(std::string_view password) {
  static const std::string kDummyHash = HashPassword(RandomHex(16));
  (void)VerifyPassword(kDummyHash, password);
}

// The cookies live as long as the session may stay idle on the server, so that closing the browser
// does not sign out; each answer to a session moves both deadlines together.
std::string SessionCookie(const std::string& session_id, bool secure) {
  return std::string(kSessionCookie) + "=" + session_id + "; Max-Age=" + std::to_string(kSessionIdleSeconds) +
         CookieAttributes(true, secure);
}

std::string CsrfCookie(const std::string& csrf_token, bool secure) {
  // Readable by the page's scripts, which echo it in X-CSRFToken.
  return std::string(kCsrfCookie) + "=" + csrf_token + "; Max-Age=" + std::to_string(kSessionIdleSeconds) +
         CookieAttributes(false, secure);
}

std::string ExpiredCookie(std::string_view name, bool http_only, bool secure) {
  return std::string(name) + "=; Max-Age=0" + CookieAttributes(http_only, secure);
}

const std::vector<std::string>& AllScopes() {
  static const std::vector<std::string> kScopes = {"org:read",         "org:write",    "org:admin",     "member:read",
                                                   "member:write",     "member:admin", "team:read",     "team:write",
                                                   "team:admin",       "project:read", "project:write", "project:admin",
                                                   "project:releases", "event:read",   "event:write",   "event:admin"};
  return kScopes;
}

std::vector<std::string> ScopesOfRole(std::string_view role) {
  if (role == "owner" || role == "admin") return AllScopes();
  if (role == "member") {
    return {"org:read", "member:read", "team:read", "project:read", "event:read", "event:write"};
  }
  return {};
}

bool IsRole(std::string_view role) {
  return role == "owner" || role == "admin" || role == "member";
}

int RoleRank(std::string_view role) {
  if (role == "owner") return 3;
  if (role == "admin") return 2;
  if (role == "member") return 1;
  return 0;
}

}  // namespace rookery::web
