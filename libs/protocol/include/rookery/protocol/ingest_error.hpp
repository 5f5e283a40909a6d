// rookery::protocol — every way an ingest request can be refused, as a value.
// The relay maps these to HTTP statuses in one place (services/relay/src/http_status.cpp).
#pragma once

#include <string>
#include <string_view>

namespace rookery::protocol {

enum class IngestErrorCode {
  kMissingAuth,         // no credentials anywhere
  kMultipleAuth,        // credentials in more than one place
  kBadAuth,             // malformed X-Sentry-Auth / query auth
  kBadProjectPath,      // project id in the path is not a positive integer
  kBadPublicKey,        // key is not 32 characters
  kUnsupportedVersion,  // sentry_version above 7
  kKeyRejected,         // unknown or disabled key, or key of another project
  kOriginRejected,      // browser Origin/Referer not among the key's allowed origins
  kRateLimited,         // the key's quota for this window is used up
  kEmptyBody,
  kBadJson,      // body (or the event item) is not a JSON object
  kBadEventId,   // event_id present but not a UUID
  kBadEnvelope,  // envelope grammar violated
  kUnsupportedEncoding,
  kDecodeFailed,  // corrupt gzip/deflate
  kTooLarge,      // body or decompressed body over its limit
};

struct IngestError {
  IngestErrorCode code;
  std::string detail;  // Sentry's wording, e.g. "missing authorization information"
  std::string cause;   // optional extra reason, sent in "causes"
};

IngestError MakeIngestError(IngestErrorCode code, std::string cause = {});

}  // namespace rookery::protocol
