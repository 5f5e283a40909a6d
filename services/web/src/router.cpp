#include "router.hpp"

#include <charconv>
#include <vector>

#include "rookery/core/strings.hpp"
#include "rookery/http/response.hpp"

namespace rookery::web {
namespace {

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> segments;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (!part.empty()) segments.push_back(UrlDecode(part));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool ParseId(const std::string& text, std::int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out > 0;
}

// The issue and alert-rule endpoints of issues_api.cpp and rules_api.cpp.
void MatchIssuesApiRoute(const std::vector<std::string>& s, Route& route) {
  if (s.size() < 4 || s[0] != "api" || s[1] != "0") return;
  if (s.size() == 5 && s[2] == "organizations" && s[4] == "issues") {
    route.endpoint = Endpoint::kOrgIssues;
    route.org_slug = s[3];
  } else if (s[2] == "issues" && s.size() >= 5 && ParseId(s[3], route.issue_id)) {
    if (s.size() == 5 && s[4] == "events") {
      route.endpoint = Endpoint::kIssueEvents;
    } else if (s.size() == 6 && s[4] == "events") {
      route.endpoint = Endpoint::kIssueEvent;
      route.event_id = s[5];
    } else if (s.size() == 5 && s[4] == "hashes") {
      route.endpoint = Endpoint::kIssueHashes;
    } else if (s.size() == 5 && s[4] == "tags") {
      route.endpoint = Endpoint::kIssueTags;
    } else if (s.size() == 7 && s[4] == "tags" && s[6] == "values") {
      route.endpoint = Endpoint::kIssueTagValues;
      route.tag_key = s[5];
    }
  } else if (s[2] == "projects" && s.size() >= 6) {
    route.org_slug = s[3];
    route.project_slug = s[4];
    if (s.size() == 7 && s[5] == "events") {
      route.endpoint = Endpoint::kProjectEvent;
      route.event_id = s[6];
    } else if (s.size() == 6 && s[5] == "rules") {
      route.endpoint = Endpoint::kProjectRules;
    } else if (s.size() == 7 && s[5] == "rules" && ParseId(s[6], route.rule_id)) {
      route.endpoint = Endpoint::kProjectRule;
    }
  }
}

}  // namespace

Route MatchRoute(std::string_view target) {
  const auto s = Segments(http::PathOf(target));
  Route route;
  if (s.size() == 1 && s[0] == "healthz") {
    route.endpoint = Endpoint::kHealth;
  } else if (s.size() == 1 && s[0] == "readyz") {
    route.endpoint = Endpoint::kReady;
  } else if (s.size() == 6 && s[0] == "api" && s[1] == "0" && s[2] == "projects" && s[5] == "issues") {
    route.endpoint = Endpoint::kProjectIssues;
    route.org_slug = s[3];
    route.project_slug = s[4];
  } else if (s.size() == 4 && s[0] == "api" && s[1] == "0" && s[2] == "issues" && ParseId(s[3], route.issue_id)) {
    route.endpoint = Endpoint::kIssue;
  } else if (s.size() == 4 && s[0] == "api" && s[1] == "0" && s[2] == "notifications" && s[3] == "unsubscribe") {
    route.endpoint = Endpoint::kUnsubscribe;
  } else if (s.size() == 5 && s[0] == "api" && s[1] == "0" && s[2] == "users" && s[3] == "me" &&
             s[4] == "notifications") {
    route.endpoint = Endpoint::kNotificationSettings;
  } else if (s.size() == 6 && s[0] == "api" && s[1] == "0" && s[2] == "issues" && s[4] == "events" &&
             s[5] == "latest" && ParseId(s[3], route.issue_id)) {
    route.endpoint = Endpoint::kIssueLatestEvent;
  } else {
    MatchIssuesApiRoute(s, route);
  }
  if (route.endpoint == Endpoint::kNotFound) MatchAccountRoute(s, route);
  return route;
}

}  // namespace rookery::web
