#include "rookery/protocol/ingest_error.hpp"

namespace rookery::protocol {
namespace {

// The wording follows Relay's, because SDKs print `detail` (and X-Sentry-Error) to their users.
std::string DefaultDetail(IngestErrorCode code) {
  switch (code) {
    case IngestErrorCode::kMissingAuth: return "missing authorization information";
    case IngestErrorCode::kMultipleAuth: return "multiple authorization payloads detected";
    case IngestErrorCode::kBadAuth: return "bad x-sentry-auth header";
    case IngestErrorCode::kBadProjectPath: return "bad project path parameter";
    case IngestErrorCode::kBadPublicKey: return "bad sentry DSN public key";
    case IngestErrorCode::kUnsupportedVersion: return "unsupported protocol version";
    case IngestErrorCode::kKeyRejected: return "event submission rejected with_reason: ProjectId";
    case IngestErrorCode::kOriginRejected: return "event submission rejected with_reason: Cors";
    case IngestErrorCode::kRateLimited: return "event submission rejected with_reason: RateLimited";
    case IngestErrorCode::kEmptyBody: return "empty request body";
    case IngestErrorCode::kBadJson: return "invalid JSON data";
    case IngestErrorCode::kBadEventId: return "invalid JSON data";  // Relay's wording, §5.1
    case IngestErrorCode::kBadEnvelope: return "invalid event envelope";
    case IngestErrorCode::kUnsupportedEncoding: return "unsupported content encoding";
    case IngestErrorCode::kDecodeFailed: return "failed to read request body";
    case IngestErrorCode::kTooLarge: return "request body exceeded size limits";
  }
  return "bad request";
}

}  // namespace

IngestError MakeIngestError(IngestErrorCode code, std::string cause) {
  return IngestError{code, DefaultDetail(code), std::move(cause)};
}

}  // namespace rookery::protocol
