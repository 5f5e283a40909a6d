// rookery::protocol — Sentry client authentication (X-Sentry-Auth, Authorization, query string).
// See ../shared/reference/sentry-protocol.md §2.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rookery/core/expected.hpp"
#include "rookery/protocol/ingest_error.hpp"

namespace rookery::protocol {

struct SentryAuth {
  std::string public_key;  // 32 characters, flags after '.' stripped
  std::string secret_key;  // legacy DSNs; accepted and ignored
  int version = 7;
  std::string client;  // "sentry.python/1.9.10"
};

struct AuthSources {
  std::string_view x_sentry_auth;  // header value, empty if absent
  std::string_view authorization;  // header value, empty if absent
  std::string_view query;          // raw query string without '?'
};

/// Parses "Sentry sentry_key=..., sentry_version=7, ...". The "Sentry " prefix is required.
Expected<SentryAuth, IngestError> ParseAuthHeader(std::string_view value);
/// Parses sentry_key / sentry_version / sentry_client / sentry_secret from a query string.
Expected<SentryAuth, IngestError> ParseAuthQuery(std::string_view query);
/// Picks the one source that carries credentials: 401 when none or more than one does.
Expected<SentryAuth, IngestError> ExtractAuth(const AuthSources& sources);

/// A DSN, `{scheme}://{public_key}[:{secret}]@{host}[:{port}][/{path}]/{project_id}` (§2.1), as
/// self-authenticating envelopes carry it in their `dsn` header.
struct Dsn {
  std::string public_key;
  std::string secret_key;
  std::int64_t project_id = 0;
};
/// kBadAuth for anything that is not a DSN; the key must be 32 characters (kBadPublicKey).
Expected<Dsn, IngestError> ParseDsn(std::string_view dsn);

/// "sentry.python/1.9.10" -> {"sentry.python", "1.9.10"}; no slash -> version empty.
struct SdkIdentity {
  std::string name;
  std::string version;
};
SdkIdentity ParseSdkIdentity(std::string_view client_or_user_agent);

}  // namespace rookery::protocol
