#include "http_status.hpp"

#include "rookery/http/response.hpp"

namespace rookery::relay {

using protocol::IngestErrorCode;

http::Status ToHttpStatus(IngestErrorCode code) {
  switch (code) {
    case IngestErrorCode::kMissingAuth:
    case IngestErrorCode::kMultipleAuth:
    case IngestErrorCode::kBadAuth: return http::Status::unauthorized;
    case IngestErrorCode::kKeyRejected:
    case IngestErrorCode::kOriginRejected: return http::Status::forbidden;
    case IngestErrorCode::kRateLimited: return http::Status::too_many_requests;
    case IngestErrorCode::kTooLarge: return http::Status::payload_too_large;
    case IngestErrorCode::kBadProjectPath:
    case IngestErrorCode::kBadPublicKey:
    case IngestErrorCode::kUnsupportedVersion:
    case IngestErrorCode::kEmptyBody:
    case IngestErrorCode::kBadJson:
    case IngestErrorCode::kBadEventId:
    case IngestErrorCode::kBadEnvelope:
    case IngestErrorCode::kUnsupportedEncoding:
    case IngestErrorCode::kDecodeFailed: return http::Status::bad_request;
  }
  return http::Status::bad_request;
}

const char* ReasonLabel(IngestErrorCode code) {
  switch (code) {
    case IngestErrorCode::kMissingAuth: return "missing_auth";
    case IngestErrorCode::kMultipleAuth: return "multiple_auth";
    case IngestErrorCode::kBadAuth: return "bad_auth";
    case IngestErrorCode::kBadProjectPath: return "bad_project";
    case IngestErrorCode::kBadPublicKey: return "bad_public_key";
    case IngestErrorCode::kUnsupportedVersion: return "unsupported_version";
    case IngestErrorCode::kKeyRejected: return "key_rejected";
    case IngestErrorCode::kOriginRejected: return "origin_rejected";
    case IngestErrorCode::kRateLimited: return "rate_limited";
    case IngestErrorCode::kEmptyBody: return "empty_body";
    case IngestErrorCode::kBadJson: return "bad_json";
    case IngestErrorCode::kBadEventId: return "bad_event_id";
    case IngestErrorCode::kBadEnvelope: return "bad_envelope";
    case IngestErrorCode::kUnsupportedEncoding: return "unsupported_encoding";
    case IngestErrorCode::kDecodeFailed: return "decode_failed";
    case IngestErrorCode::kTooLarge: return "too_large";
  }
  return "other";
}

http::Response MakeIngestErrorResponse(const protocol::IngestError& error) {
  std::string body = "{\"detail\":" + http::JsonQuote(error.detail);
  if (!error.cause.empty()) body += ",\"causes\":[" + http::JsonQuote(error.cause) + "]";
  body += "}";
  http::Response response = http::MakeJsonResponse(ToHttpStatus(error.code), std::move(body));
  response.set("X-Sentry-Error", error.cause.empty() ? error.detail : error.detail + ": " + error.cause);
  AddCorsHeaders(response);
  return response;
}

void AddCorsHeaders(http::Response& response) {
  response.set("Access-Control-Allow-Origin", "*");
  response.set("Access-Control-Expose-Headers", "x-sentry-error, x-sentry-rate-limits, retry-after");
}

}  // namespace rookery::relay
