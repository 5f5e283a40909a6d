#include "bootstrap.hpp"

#include <pqxx/pqxx>

#include "secrets.hpp"

namespace rookery::admin {

std::string MakeDsn(const std::string& relay_public_url, const std::string& public_key, std::int64_t project_id) {
  std::string url = relay_public_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  return url.substr(0, scheme_end + 3) + public_key + "@" + url.substr(scheme_end + 3) + "/" +
         std::to_string(project_id);
}

BootstrapResult Bootstrap(pqxx::connection& connection, const BootstrapRequest& request) {
  BootstrapResult result;
  pqxx::work tx(connection);

  auto user = tx.exec_params("SELECT id, password_hash IS NOT NULL FROM users WHERE email = $1", request.email);
  std::string password = request.password;
  if (user.empty()) {
    if (password.empty()) {
      password = RandomHex(12);
      result.generated_password = password;
    }
    user = tx.exec_params(
        "INSERT INTO users (email, name, password_hash, is_superuser) VALUES ($1, 'Admin', $2, true) RETURNING id, "
        "true",
        request.email, HashPassword(password));
  } else if (!password.empty()) {
    tx.exec_params("UPDATE users SET password_hash = $2 WHERE id = $1", user[0][0].as<std::int64_t>(),
                   HashPassword(password));
  }
  result.user_id = user[0][0].as<std::int64_t>();

  result.org_id = tx.exec_params(
                        "INSERT INTO organizations (slug, name) VALUES ($1, $1) "
                        "ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id",
                        request.org_slug)[0][0]
                      .as<std::int64_t>();
  tx.exec_params(
      "INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, 'owner') "
      "ON CONFLICT DO NOTHING",
      result.org_id, result.user_id);
  result.project_id = tx.exec_params(
                            "INSERT INTO projects (organization_id, slug, name, platform) VALUES ($1, $2, $2, $3) "
                            "ON CONFLICT (organization_id, slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id",
                            result.org_id, request.project_slug, request.platform)[0][0]
                          .as<std::int64_t>();

  auto key = tx.exec_params(
      "SELECT public_key FROM project_keys WHERE project_id = $1 AND is_active ORDER BY id LIMIT 1", result.project_id);
  if (key.empty()) {
    key = tx.exec_params(
        "INSERT INTO project_keys (project_id, public_key, secret_key) VALUES ($1, $2, $3) RETURNING public_key",
        result.project_id, RandomHex(16), RandomHex(16));
  }
  result.public_key = key[0][0].as<std::string>();
  result.dsn = MakeDsn(request.relay_public_url, result.public_key, result.project_id);

  result.api_token = RandomHex(32);
  tx.exec_params(
      "INSERT INTO api_tokens (user_id, token_hash, name, scopes) "
      "VALUES ($1, sha256(convert_to($2, 'UTF8')), 'bootstrap', "
      "ARRAY['org:read','org:admin','project:read','project:write','event:read','event:write'])",
      result.user_id, result.api_token);
  tx.commit();
  return result;
}

}  // namespace rookery::admin
