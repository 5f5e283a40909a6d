// The one place where ingest errors become HTTP answers (Sentry's statuses and bodies).
#pragma once

#include "rookery/http/server.hpp"
#include "rookery/protocol/ingest_error.hpp"

namespace rookery::relay {

http::Status ToHttpStatus(protocol::IngestErrorCode code);
/// A stable metric label for the reason ("missing_auth", "too_large", ...).
const char* ReasonLabel(protocol::IngestErrorCode code);
/// {"detail": ..., "causes": [...]} plus X-Sentry-Error, as Relay answers.
http::Response MakeIngestErrorResponse(const protocol::IngestError& error);
/// Sets the CORS headers browser SDKs need on every answer, errors and 429 included.
void AddCorsHeaders(http::Response& response);

}  // namespace rookery::relay
