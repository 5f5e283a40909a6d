// Fuzz target: the relay's credential parsers. Input: up to four '\n'-separated fields, used as
// X-Sentry-Auth, Authorization, query string and envelope `dsn` header (HTTP header values cannot
// hold a newline, so the separator costs no coverage). The whole input is also fed to every
// parser, so that newlines and any other byte reach them too.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "rookery/protocol/auth.hpp"

namespace rookery::protocol {
namespace {

void CheckAuth(const Expected<SentryAuth, IngestError>& auth) {
  if (!auth) return;
  // Relay's ProjectKey: exactly 32 characters, flags after '.' stripped; versions above 7 refused.
  ROOKERY_FUZZ_CHECK(auth->public_key.size() == 32);
  ROOKERY_FUZZ_CHECK(auth->public_key.find('.') == std::string::npos);
  ROOKERY_FUZZ_CHECK(auth->version <= 7);
}

bool SameAuth(const SentryAuth& a, const SentryAuth& b) {
  return a.public_key == b.public_key && a.secret_key == b.secret_key && a.version == b.version && a.client == b.client;
}

void CheckDsn(std::string_view text) {
  auto dsn = ParseDsn(text);
  if (!dsn) return;
  ROOKERY_FUZZ_CHECK(dsn->public_key.size() == 32);
  ROOKERY_FUZZ_CHECK(dsn->project_id > 0);
  ROOKERY_FUZZ_CHECK(dsn->public_key.size() + dsn->secret_key.size() < text.size());
}

void FuzzAuth(std::string_view input) {
  std::array<std::string_view, 4> fields{};
  std::string_view rest = input;
  for (auto& field : fields) {
    const std::size_t newline = rest.find('\n');
    field = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
  }
  const auto& [x_sentry_auth, authorization, query, dsn] = fields;

  const auto from_header = ParseAuthHeader(x_sentry_auth);
  const auto from_authorization = ParseAuthHeader(authorization);
  const auto from_query = ParseAuthQuery(query);
  CheckAuth(from_header);
  CheckAuth(from_authorization);
  CheckAuth(from_query);
  CheckAuth(ParseAuthHeader(input));
  CheckAuth(ParseAuthQuery(input));
  CheckDsn(dsn);
  CheckDsn(input);

  // ExtractAuth only chooses a source: what it accepts is what that source's parser accepts.
  const auto extracted = ExtractAuth({x_sentry_auth, authorization, query});
  CheckAuth(extracted);
  if (extracted) {
    const bool matches = (from_header && SameAuth(*extracted, *from_header)) ||
                         (from_authorization && SameAuth(*extracted, *from_authorization)) ||
                         (from_query && SameAuth(*extracted, *from_query));
    ROOKERY_FUZZ_CHECK(matches);
    const SdkIdentity sdk = ParseSdkIdentity(extracted->client);
    ROOKERY_FUZZ_CHECK(sdk.name.size() + sdk.version.size() <= extracted->client.size());
  }
  const SdkIdentity sdk = ParseSdkIdentity(input);
  ROOKERY_FUZZ_CHECK(sdk.name.size() + sdk.version.size() <= input.size());
}

}  // namespace
}  // namespace rookery::protocol

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rookery::protocol::FuzzAuth({reinterpret_cast<const char*>(data), size});
  return 0;
}
