#include <catch2/catch.hpp>

#include "auth.hpp"
#include "org_api.hpp"
#include "router.hpp"

using namespace rookery::web;

TEST_CASE("slugs derived from names", "[unit][web]") {
  CHECK(Slugify("Acme Corp") == "acme-corp");
  CHECK(Slugify("  Hello,   World!! ") == "hello-world");
  CHECK(Slugify("snake_case-name") == "snake_case-name");
  CHECK(Slugify("Ünïcode café") == "n-code-caf");
  CHECK(Slugify("!!!") == "");
  CHECK(Slugify("2024") == "n2024");  // all digits would read as an id
  CHECK(Slugify(std::string(80, 'a')).size() == 50);
  CHECK(IsValidSlug(Slugify("Acme Corp")));
}

TEST_CASE("slugs given by clients", "[unit][web]") {
  CHECK(IsValidSlug("backend"));
  CHECK(IsValidSlug("my-project_2"));
  CHECK_FALSE(IsValidSlug(""));
  CHECK_FALSE(IsValidSlug("123"));
  CHECK_FALSE(IsValidSlug("Backend"));
  CHECK_FALSE(IsValidSlug("a/b"));
  CHECK_FALSE(IsValidSlug(std::string(51, 'a')));
}

TEST_CASE("emails", "[unit][web]") {
  CHECK(IsPlausibleEmail("jane@example.com"));
  CHECK_FALSE(IsPlausibleEmail("jane"));
  CHECK_FALSE(IsPlausibleEmail("@example.com"));
  CHECK_FALSE(IsPlausibleEmail("jane@"));
  CHECK_FALSE(IsPlausibleEmail("ja ne@example.com"));
  CHECK_FALSE(IsPlausibleEmail("a@b@c"));
}

TEST_CASE("cookie parsing", "[unit][web]") {
  CHECK(CookieValue("rookery_session=abc", "rookery_session") == "abc");
  CHECK(CookieValue("a=1; rookery_session=abc; b=2", "rookery_session") == "abc");
  CHECK(CookieValue("a=1;rookery_session=\"abc\"", "rookery_session") == "abc");
  CHECK(CookieValue("xrookery_session=abc", "rookery_session") == std::nullopt);
  CHECK(CookieValue("", "rookery_session") == std::nullopt);
  CHECK(CookieValue("rookery_session=", "rookery_session") == "");
  CHECK(CookieValue("rookery_csrf=1; rookery_session=2", "rookery_csrf") == "1");
}

TEST_CASE("CSRF tokens compare in constant time and exactly", "[unit][web]") {
  CHECK(ConstantTimeEquals("abcdef", "abcdef"));
  CHECK_FALSE(ConstantTimeEquals("abcdef", "abcdeg"));
  CHECK_FALSE(ConstantTimeEquals("abcdef", "abcde"));
  CHECK_FALSE(ConstantTimeEquals("", "abc"));
  CHECK(ConstantTimeEquals("", ""));
}

TEST_CASE("cookies carry the attributes browsers need", "[unit][web]") {
  CHECK(SessionCookie("s1", false) == "rookery_session=s1; Max-Age=1209600; HttpOnly; SameSite=Lax; Path=/");
  CHECK(SessionCookie("s1", true) == "rookery_session=s1; Max-Age=1209600; HttpOnly; SameSite=Lax; Path=/; Secure");
  CHECK(CsrfCookie("c1", false) == "rookery_csrf=c1; Max-Age=1209600; SameSite=Lax; Path=/");
  CHECK(ExpiredCookie(kSessionCookie, true, false) == "rookery_session=; Max-Age=0; HttpOnly; SameSite=Lax; Path=/");
}

TEST_CASE("passwords and secrets", "[unit][web]") {
  const auto hash = HashPassword("correct horse");
  CHECK(hash.rfind("$argon2id$", 0) == 0);
  CHECK(VerifyPassword(hash, "correct horse"));
  CHECK_FALSE(VerifyPassword(hash, "correct horsE"));
  CHECK(RandomHex(32).size() == 64);
  CHECK(RandomHex(16) != RandomHex(16));
}

TEST_CASE("roles and scopes", "[unit][web]") {
  CHECK(ScopesOfRole("owner") == AllScopes());
  CHECK(ScopesOfRole("admin") == AllScopes());
  const auto member = ScopesOfRole("member");
  CHECK(std::find(member.begin(), member.end(), "event:write") != member.end());
  CHECK(std::find(member.begin(), member.end(), "project:read") != member.end());
  CHECK(std::find(member.begin(), member.end(), "project:write") == member.end());
  CHECK(ScopesOfRole("nobody").empty());
  CHECK(RoleRank("owner") > RoleRank("admin"));
  CHECK(RoleRank("admin") > RoleRank("member"));
}

TEST_CASE("DSNs from the relay's public URL", "[unit][web]") {
  CHECK(MakeDsn("https://relay.example.com", "abc", 7) == "https://abc@relay.example.com/7");
  CHECK(MakeDsn("http://127.0.0.1:3000", "abc", 7, "def") == "http://abc:def@127.0.0.1:3000/7");
}

TEST_CASE("accounts and tenancy routes", "[unit][web]") {
  CHECK(MatchRoute("/api/0/auth/login/").endpoint == Endpoint::kAuthLogin);
  CHECK(MatchRoute("/api/0/users/me/").endpoint == Endpoint::kMe);
  CHECK(MatchRoute("/api/0/users/me/notifications/").endpoint == Endpoint::kNotificationSettings);
  CHECK(MatchRoute("/api/0/organizations/").endpoint == Endpoint::kOrganizations);
  const auto member = MatchRoute("/api/0/organizations/acme/members/12/");
  CHECK(member.endpoint == Endpoint::kOrgMember);
  CHECK(member.org_slug == "acme");
  CHECK(member.object_id == 12);
  const auto team = MatchRoute("/api/0/teams/acme/core/projects/");
  CHECK(team.endpoint == Endpoint::kTeamProjects);
  CHECK(team.team_slug == "core");
  CHECK(MatchRoute("/api/0/projects/acme/backend/").endpoint == Endpoint::kProject);
  CHECK(MatchRoute("/api/0/projects/acme/backend/issues/").endpoint == Endpoint::kProjectIssues);
  const auto key = MatchRoute("/api/0/projects/acme/backend/keys/0123abcd/");
  CHECK(key.endpoint == Endpoint::kProjectKey);
  CHECK(key.key_id == "0123abcd");
  CHECK(MatchRoute("/api/0/api-tokens/3/").endpoint == Endpoint::kApiToken);
  CHECK(MatchRoute("/api/0/api-tokens/x/").endpoint == Endpoint::kNotFound);
  CHECK(MatchRoute("/api/0/organizations/acme/members/0/").endpoint == Endpoint::kNotFound);
  CHECK(AccountRouteAllows(Endpoint::kAuthLogin, "POST"));
  CHECK_FALSE(AccountRouteAllows(Endpoint::kAuthLogin, "GET"));
  CHECK_FALSE(AccountRouteAllows(Endpoint::kIssue, "GET"));
  CHECK(IsAccountRoute(Endpoint::kApiToken));
  CHECK_FALSE(IsAccountRoute(Endpoint::kProjectIssues));
  // Set-password links: the token travels in the body, so the paths carry none.
  CHECK(MatchRoute("/api/0/auth/password-reset/").endpoint == Endpoint::kPasswordReset);
  CHECK(MatchRoute("/api/0/auth/password-link/").endpoint == Endpoint::kPasswordLink);
  CHECK(MatchRoute("/api/0/auth/password-link/abc/").endpoint == Endpoint::kNotFound);
  CHECK(AccountRouteAllows(Endpoint::kPasswordReset, "POST"));
  CHECK_FALSE(AccountRouteAllows(Endpoint::kPasswordReset, "GET"));
  CHECK(AccountRouteAllows(Endpoint::kPasswordLink, "POST"));
  CHECK(AccountRouteAllows(Endpoint::kPasswordLink, "PUT"));
  CHECK_FALSE(AccountRouteAllows(Endpoint::kPasswordLink, "GET"));
}
