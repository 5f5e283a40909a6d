#include <catch2/catch.hpp>

#include "http_status.hpp"

using namespace rookery::relay;
using rookery::protocol::IngestErrorCode;
using rookery::protocol::MakeIngestError;

TEST_CASE("ingest errors map to Sentry's statuses", "[unit][relay]") {
  CHECK(ToHttpStatus(IngestErrorCode::kMissingAuth) == rookery::http::Status::unauthorized);
  CHECK(ToHttpStatus(IngestErrorCode::kBadAuth) == rookery::http::Status::unauthorized);
  CHECK(ToHttpStatus(IngestErrorCode::kKeyRejected) == rookery::http::Status::forbidden);
  CHECK(ToHttpStatus(IngestErrorCode::kBadJson) == rookery::http::Status::bad_request);
  CHECK(ToHttpStatus(IngestErrorCode::kBadPublicKey) == rookery::http::Status::bad_request);
  CHECK(ToHttpStatus(IngestErrorCode::kTooLarge) == rookery::http::Status::payload_too_large);
}

TEST_CASE("error bodies carry detail, causes, X-Sentry-Error and CORS", "[unit][relay]") {
  auto response =
      MakeIngestErrorResponse(MakeIngestError(IngestErrorCode::kBadAuth, "missing public key in auth header"));
  CHECK(response.result() == rookery::http::Status::unauthorized);
  CHECK(response.body() == R"({"detail":"bad x-sentry-auth header","causes":["missing public key in auth header"]})");
  CHECK(response["X-Sentry-Error"] == "bad x-sentry-auth header: missing public key in auth header");
  CHECK(response["Access-Control-Allow-Origin"] == "*");
}
