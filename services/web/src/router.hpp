// Matches API paths like Sentry's: /api/0/projects/{org}/{project}/issues/ and friends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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
  std::string event_id;  // as written in the path; checked by the handler
  std::string tag_key;
  std::int64_t rule_id = 0;
};

/// Trailing slash optional; the query string is ignored.
Route MatchRoute(std::string_view target);

}  // namespace rookery::web
