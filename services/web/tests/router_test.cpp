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
  CHECK(MatchRoute("/api/0/issues/1/events/oldest/").endpoint == Endpoint::kNotFound);
  CHECK(MatchRoute("/api/1/projects/a/b/issues/").endpoint == Endpoint::kNotFound);
  CHECK(MatchRoute("/healthz").endpoint == Endpoint::kHealth);
}
