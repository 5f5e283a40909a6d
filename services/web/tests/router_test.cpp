#include <catch2/catch.hpp>

#include "router.hpp"

using namespace rookery::web;

TEST_CASE("Sentry's API paths", "[unit][web]") {
  auto issues = MatchRoute("/api/0/projects/acme/backend/issues/?query=is:unresolved");
  CHECK(issues.endpoint == Endpoint::kProjectIssues);
  CHECK(issues.org_slug == "acme");
  CHECK(issues.project_slug == "backend");

  auto issue = MatchRoute("/api/0/issues/17/");
  CHECK(issue.endpoint == Endpoint::kIssue);
  CHECK(issue.issue_id == 17);

  auto latest = MatchRoute("/api/0/issues/17/events/latest");
  CHECK(latest.endpoint == Endpoint::kIssueLatestEvent);
  CHECK(latest.issue_id == 17);
}

TEST_CASE("paths that are not API routes", "[unit][web]") {
  CHECK(MatchRoute("/api/0/issues/abc/").endpoint == Endpoint::kNotFound);
  CHECK(MatchRoute("/api/0/issues/0/").endpoint == Endpoint::kNotFound);
  CHECK(MatchRoute("/api/0/issues/1/tags/").endpoint == Endpoint::kIssueTags);
  CHECK(MatchRoute("/api/0/issues/1/tags/k/").endpoint == Endpoint::kNotFound);
  CHECK(MatchRoute("/api/0/projects/a/b/rules/x/").endpoint == Endpoint::kNotFound);
  CHECK(MatchRoute("/api/0/organizations/a/issues/x/").endpoint == Endpoint::kNotFound);
  CHECK(MatchRoute("/api/1/projects/a/b/issues/").endpoint == Endpoint::kNotFound);
  CHECK(MatchRoute("/healthz").endpoint == Endpoint::kHealth);
}

TEST_CASE("issue and rule API paths", "[unit][web]") {
  auto org = MatchRoute("/api/0/organizations/acme/issues/?project=1");
  CHECK(org.endpoint == Endpoint::kOrgIssues);
  CHECK(org.org_slug == "acme");
  auto oldest = MatchRoute("/api/0/issues/3/events/oldest/");
  CHECK(oldest.endpoint == Endpoint::kIssueEvent);
  CHECK(oldest.event_id == "oldest");
  CHECK(MatchRoute("/api/0/issues/3/events/").endpoint == Endpoint::kIssueEvents);
  CHECK(MatchRoute("/api/0/issues/3/events/latest/").endpoint == Endpoint::kIssueLatestEvent);
  auto event = MatchRoute("/api/0/projects/acme/backend/events/0123456789abcdef0123456789abcdef/");
  CHECK(event.endpoint == Endpoint::kProjectEvent);
  CHECK(event.event_id == "0123456789abcdef0123456789abcdef");
  CHECK(event.project_slug == "backend");
  CHECK(MatchRoute("/api/0/issues/3/hashes/?id=ab").endpoint == Endpoint::kIssueHashes);
  auto values = MatchRoute("/api/0/issues/3/tags/server%20name/values/");
  CHECK(values.endpoint == Endpoint::kIssueTagValues);
  CHECK(values.tag_key == "server name");
  CHECK(MatchRoute("/api/0/projects/acme/backend/rules/").endpoint == Endpoint::kProjectRules);
  auto rule = MatchRoute("/api/0/projects/acme/backend/rules/12/");
  CHECK(rule.endpoint == Endpoint::kProjectRule);
  CHECK(rule.rule_id == 12);
}

TEST_CASE("a member's team membership path", "[unit][web]") {
  auto route = MatchRoute("/api/0/organizations/acme/members/7/teams/backend/");
  CHECK(route.endpoint == Endpoint::kOrgMemberTeam);
  CHECK(route.org_slug == "acme");
  CHECK(route.object_id == 7);
  CHECK(route.team_slug == "backend");
  CHECK(AccountRouteAllows(Endpoint::kOrgMemberTeam, "POST"));
  CHECK(AccountRouteAllows(Endpoint::kOrgMemberTeam, "DELETE"));
  CHECK_FALSE(AccountRouteAllows(Endpoint::kOrgMemberTeam, "GET"));
  CHECK(MatchRoute("/api/0/organizations/acme/members/x/teams/backend/").endpoint == Endpoint::kNotFound);
  CHECK(MatchRoute("/api/0/organizations/acme/members/7/teams/").endpoint == Endpoint::kNotFound);
}
