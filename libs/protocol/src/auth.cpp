#include "rookery/protocol/auth.hpp"

#include <charconv>
#include <optional>

#include "rookery/core/strings.hpp"

namespace rookery::protocol {
namespace {

constexpr std::size_t kPublicKeyLength = 32;

bool IsSentryHeader(std::string_view value) {
  return StartsWithIgnoreCase(TrimWhitespace(value), "sentry ");
}

bool QueryHasAuth(std::string_view query) {
  return query.find("sentry_key=") != std::string_view::npos;
}

// Applies one key=value pair; returns an error for a value that is present but unusable.
std::optional<IngestError> ApplyField(SentryAuth& auth, std::string_view key, std::string value) {
  if (key == "sentry_key") {
    auth.public_key = std::move(value);
  } else if (key == "sentry_secret") {
    auth.secret_key = std::move(value);
  } else if (key == "sentry_client") {
    auth.client = std::move(value);
  } else if (key == "sentry_version") {
    // Only the part before the first '.' counts: "2.0" is version 2.
    std::string_view major = value;
    major = major.substr(0, major.find('.'));
    int version = 0;
    auto [end, ec] = std::from_chars(major.data(), major.data() + major.size(), version);
    if (ec != std::errc() || end != major.data() + major.size() || major.empty()) {
      return MakeIngestError(IngestErrorCode::kBadAuth, "invalid value for version");
    }
    auth.version = version;
  }
  return std::nullopt;  // sentry_timestamp and unknown keys are ignored, as Relay does
}

Expected<SentryAuth, IngestError> Validate(SentryAuth auth) {
  if (auth.public_key.empty()) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadAuth, "missing public key in auth header"));
  }
  // A key may carry flags after a dot ("<key>.no-cache"); they are not part of its identity.
  if (auto dot = auth.public_key.find('.'); dot != std::string::npos) {
    auth.public_key.resize(dot);
  }
  if (auth.public_key.size() != kPublicKeyLength) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadPublicKey));
  }
  if (auth.version > 7) {
    return MakeUnexpected(
        MakeIngestError(IngestErrorCode::kUnsupportedVersion, "sentry_version " + std::to_string(auth.version)));
  }
  return auth;
}

}  // namespace

Expected<SentryAuth, IngestError> ParseAuthHeader(std::string_view value) {
  value = TrimWhitespace(value);
  if (!StartsWithIgnoreCase(value, "sentry ")) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadAuth, "auth header must start with 'Sentry '"));
  }
  value.remove_prefix(7);
  SentryAuth auth;
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    std::string_view part = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      if (TrimWhitespace(part).empty()) continue;
      return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadAuth, "malformed auth header field"));
    }
    if (auto error =
            ApplyField(auth, TrimWhitespace(part.substr(0, eq)), std::string(TrimWhitespace(part.substr(eq + 1))))) {
      return MakeUnexpected(std::move(*error));
    }
  }
  return Validate(std::move(auth));
}

Expected<SentryAuth, IngestError> ParseAuthQuery(std::string_view query) {
  SentryAuth auth;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (auto error = ApplyField(auth, pair.substr(0, eq), UrlDecode(pair.substr(eq + 1)))) {
      return MakeUnexpected(std::move(*error));
    }
  }
  return Validate(std::move(auth));
}

Expected<SentryAuth, IngestError> ExtractAuth(const AuthSources& sources) {
  const bool in_header = IsSentryHeader(sources.x_sentry_auth);
  const bool in_authorization = IsSentryHeader(sources.authorization);
  const bool in_query = QueryHasAuth(sources.query);
  const int count = int(in_header) + int(in_authorization) + int(in_query);
  if (count == 0) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kMissingAuth));
  }
  if (count > 1) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kMultipleAuth));
  }
  if (in_header) return ParseAuthHeader(sources.x_sentry_auth);
  if (in_authorization) return ParseAuthHeader(sources.authorization);
  return ParseAuthQuery(sources.query);
}

Expected<Dsn, IngestError> ParseDsn(std::string_view dsn) {
  const auto bad = [](const char* why) { return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadAuth, why)); };
  const std::size_t scheme_end = dsn.find("://");
  if (scheme_end == std::string_view::npos) return bad("invalid dsn: no scheme");
  std::string_view rest = dsn.substr(scheme_end + 3);
  const std::size_t at = rest.find('@');
  const std::size_t first_slash = rest.find('/');
  if (at == std::string_view::npos || (first_slash != std::string_view::npos && first_slash < at)) {
    return bad("invalid dsn: no public key");
  }
  std::string_view credentials = rest.substr(0, at);
  std::string_view location = rest.substr(at + 1);
  Dsn parsed;
  const std::size_t colon = credentials.find(':');
  parsed.public_key = std::string(credentials.substr(0, colon));
  if (colon != std::string_view::npos) parsed.secret_key = std::string(credentials.substr(colon + 1));
  while (!location.empty() && location.back() == '/') location.remove_suffix(1);
  const std::size_t last_slash = location.rfind('/');
  if (last_slash == std::string_view::npos) return bad("invalid dsn: no project id");
  const std::string_view id_text = location.substr(last_slash + 1);
  auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), parsed.project_id);
  if (ec != std::errc() || end != id_text.data() + id_text.size() || parsed.project_id <= 0) {
    return bad("invalid dsn: bad project id");
  }
  if (parsed.public_key.size() != kPublicKeyLength) {
    return MakeUnexpected(MakeIngestError(IngestErrorCode::kBadPublicKey));
  }
  return parsed;
}

SdkIdentity ParseSdkIdentity(std::string_view client_or_user_agent) {
  std::string_view text = TrimWhitespace(client_or_user_agent);
  text = text.substr(0, text.find(' '));  // "raven-python/6.10.0 (extra)" keeps the first token
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return {std::string(text), ""};
  }
  return {std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
}

}  // namespace rookery::protocol
