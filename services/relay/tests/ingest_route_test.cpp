#include <catch2/catch.hpp>

#include "ingest.hpp"

using namespace rookery::relay;
using rookery::protocol::IngestEndpoint;

TEST_CASE("ingest routes as SDKs build them, and their sloppy variants", "[unit][relay]") {
  auto store = MatchRoute("/api/42/store/");
  CHECK(store.kind == RouteKind::kIngest);
  CHECK(store.ingest.project_id == 42);
  CHECK(store.ingest.endpoint == IngestEndpoint::kStore);

  auto envelope = MatchRoute("/api/42/envelope/?sentry_key=abc&sentry_version=7");
  CHECK(envelope.kind == RouteKind::kIngest);
  CHECK(envelope.ingest.endpoint == IngestEndpoint::kEnvelope);

  CHECK(MatchRoute("/api/42/store").kind == RouteKind::kIngest);
  CHECK(MatchRoute("//api//42///store////").kind == RouteKind::kIngest);
}

TEST_CASE("bad project ids and unknown paths", "[unit][relay]") {
  CHECK(MatchRoute("/api/0/store/").kind == RouteKind::kBadProject);
  CHECK(MatchRoute("/api/abc/store/").kind == RouteKind::kBadProject);
  CHECK(MatchRoute("/api/-3/envelope/").kind == RouteKind::kBadProject);
  CHECK(MatchRoute("/api/42/unknown/").kind == RouteKind::kNotFound);
  CHECK(MatchRoute("/").kind == RouteKind::kNotFound);
  CHECK(MatchRoute("/healthz").kind == RouteKind::kHealth);
  CHECK(MatchRoute("/readyz").kind == RouteKind::kReady);
}

TEST_CASE("the legacy store route without a project id", "[unit][relay]") {
  auto legacy = MatchRoute("/api/store/");
  CHECK(legacy.kind == RouteKind::kIngest);
  CHECK(legacy.ingest.project_id == 0);
  CHECK(legacy.ingest.endpoint == IngestEndpoint::kStore);
}

TEST_CASE("security report routes", "[unit][relay]") {
  auto security = MatchRoute("/api/5/security/?sentry_key=abc");
  CHECK(security.kind == RouteKind::kIngest);
  CHECK(security.ingest.security);
  CHECK(security.ingest.project_id == 5);
  CHECK(MatchRoute("/api/5/csp-report/").ingest.security);
  CHECK_FALSE(MatchRoute("/api/5/store/").ingest.security);
}
