// The tenancy API in Sentry's shapes: organizations, members, teams, projects, DSN keys and API
// tokens. Objects of organizations the caller is not a member of answer 404, whatever the method.
#pragma once

#include <cstdint>
#include <string>

#include <pqxx/pqxx>

#include "api_util.hpp"
#include "config.hpp"
#include "rookery/http/server.hpp"
#include "router.hpp"
#include "sessions.hpp"

namespace rookery::web {

struct OrgRow {
  std::int64_t id = 0;
  std::string slug;
  std::string name;
  std::int64_t created_ms = 0;
  std::string role;  // the caller's
  int retention_days = 90;
};

void PrepareOrgApi(pqxx::connection& connection);

/// A new organization (slug derived from the name, made unique), its owner and a default team.
OrgRow CreateOrganization(pqxx::work& tx, const std::string& name, std::int64_t owner_user_id);
void WriteOrganization(JsonWriter& w, const OrgRow& org);

http::Response ExecuteOrgApi(pqxx::connection& connection, const Route& route, const http::Request& request,
                             const Principal& principal, const WebConfig& config);

/// Sentry's DSN: {scheme}://{public}@{host}/{project id}, from the relay's public URL.
std::string MakeDsn(const std::string& relay_public_url, const std::string& public_key, std::int64_t project_id,
                    const std::string& secret_key = "");

}  // namespace rookery::web
