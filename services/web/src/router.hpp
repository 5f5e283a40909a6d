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
};

struct Route {
  Endpoint endpoint = Endpoint::kNotFound;
  std::string org_slug;
  std::string project_slug;
  std::int64_t issue_id = 0;
};

/// Trailing slash optional; the query string is ignored.
Route MatchRoute(std::string_view target);

}  // namespace rookery::web
