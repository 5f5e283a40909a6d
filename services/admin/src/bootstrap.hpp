// First-run set-up: an admin user, an organization, a project, a DSN key and an API token.
// Idempotent for everything but the token, which is new on every call (only its hash is stored).
#pragma once

#include <cstdint>
#include <string>

#include <pqxx/connection>

namespace rookery::admin {

struct BootstrapRequest {
  std::string email = "admin@rookery.local";
  std::string password;  // empty: keep an existing one, or generate one for a new user
  std::string org_slug = "rookery";
  std::string project_slug = "default";
  std::string platform = "python";
  std::string relay_public_url = "http://localhost:3000";
};

struct BootstrapResult {
  std::int64_t user_id = 0;
  std::string generated_password;  // set only when this call created the password
  std::int64_t org_id = 0;
  std::int64_t project_id = 0;
  std::string public_key;
  std::string dsn;
  std::string api_token;
};

BootstrapResult Bootstrap(pqxx::connection& connection, const BootstrapRequest& request);

/// "http://<key>@host:port/<project_id>" from the relay's public URL (path prefixes kept).
std::string MakeDsn(const std::string& relay_public_url, const std::string& public_key, std::int64_t project_id);

}  // namespace rookery::admin
