#include "http_status.hpp"

#include "rookery/http/response.hpp"

namespace rookery::relay {

using protocol::IngestErrorCode;

http::Status ToHttpStatus(IngestErrorCode code) {
  switch (code) {
    case IngestErrorCode::kMissingAuth:
    case IngestErrorCode::kMultipleAuth:
    case IngestErrorCode::kBadAuth: return http::Status::unauthorized;
    case IngestErrorCode::kKeyRejected: return http::Status::forbidden;
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
