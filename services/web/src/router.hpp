// Matches API paths like Sentry's: /api/0/projects/{org}/{project}/issues/ and friends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rookery::web {

enum class Endpoint {
  kNotFound,
  kHealth,
  kReady,
  kProjectIssues,         // /api/0/projects/{org}/{project}/issues/
  kIssue,                 // /api/0/issues/{id}/ (GET, PUT)
  kIssueLatestEvent,      // /api/0/issues/{id}/events/latest/
  kUnsubscribe,           // /api/0/notifications/unsubscribe/?token=... (GET: a page, POST: apply)
  kNotificationSettings,  // /api/0/users/me/notifications/ (GET, PUT)
  // Accounts and tenancy (account_routes.cpp).
  kAuthSetup,      // /api/0/auth/setup/ (GET, POST)
  kAuthLogin,      // /api/0/auth/login/ (POST)
  kAuthLogout,     // /api/0/auth/logout/ (POST)
  kPasswordReset,  // /api/0/auth/password-reset/ (POST: mail a set-password link)
  kPasswordLink,   // /api/0/auth/password-link/ (POST: what a link is for, PUT: set the password)
  kMe,             // /api/0/users/me/
  kOrganizations,  // /api/0/organizations/
  kOrganization,   // /api/0/organizations/{org}/
  kOrgMembers,     // /api/0/organizations/{org}/members/ (GET, POST)
  kOrgMember,      // /api/0/organizations/{org}/members/{object_id}/ (PUT, DELETE)
  kOrgMemberTeam,  // /api/0/organizations/{org}/members/{object_id}/teams/{team}/ (POST, DELETE)
  kOrgTeams,       // /api/0/organizations/{org}/teams/ (GET, POST)
  kOrgProjects,    // /api/0/organizations/{org}/projects/ (GET, POST)
  kTeamProjects,   // /api/0/teams/{org}/{team}/projects/ (POST)
  kProject,        // /api/0/projects/{org}/{project}/ (GET, PUT, DELETE)
  kProjectKeys,    // /api/0/projects/{org}/{project}/keys/ (GET, POST)
  kProjectKey,     // /api/0/projects/{org}/{project}/keys/{key_id}/ (GET, PUT, DELETE)
  kApiTokens,      // /api/0/api-tokens/ (GET, POST)
  kApiToken,       // /api/0/api-tokens/{object_id}/ (DELETE)
  // Served by issues_api.cpp / rules_api.cpp (see IsIssuesApiEndpoint):
  kOrgIssues,       // /api/0/organizations/{org}/issues/ (GET, bulk PUT, bulk DELETE)
  kIssueEvents,     // /api/0/issues/{id}/events/
  kIssueEvent,      // /api/0/issues/{id}/events/{event_id|oldest}/
  kProjectEvent,    // /api/0/projects/{org}/{project}/events/{event_id}/
  kIssueHashes,     // /api/0/issues/{id}/hashes/ (GET, PUT = unmerge)
  kIssueTags,       // /api/0/issues/{id}/tags/
  kIssueTagValues,  // /api/0/issues/{id}/tags/{key}/values/
  kProjectRules,    // /api/0/projects/{org}/{project}/rules/ (GET, POST)
  kProjectRule,     // /api/0/projects/{org}/{project}/rules/{rule_id}/ (GET, PUT, DELETE)
};

struct Route {
  Endpoint endpoint = Endpoint::kNotFound;
  std::string org_slug;
  std::string project_slug;
  std::int64_t issue_id = 0;
  std::string team_slug;
  std::int64_t object_id = 0;  // a membership or an API token
  std::string key_id;          // a DSN key's public key, as Sentry names keys
  std::string event_id;        // as written in the path; checked by the handler
  std::string tag_key;
  std::int64_t rule_id = 0;
};

/// Trailing slash optional; the query string is ignored.
Route MatchRoute(std::string_view target);
/// The accounts and tenancy routes, from a path's decoded segments; leaves `route` alone otherwise.
void MatchAccountRoute(const std::vector<std::string>& segments, Route& route);
/// Whether an accounts or tenancy route takes `method` ("GET", "POST", ...).
bool AccountRouteAllows(Endpoint endpoint, std::string_view method);
bool IsAccountRoute(Endpoint endpoint);

}  // namespace rookery::web
