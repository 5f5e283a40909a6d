// rookery-admin: operator commands.
//   rookery-admin migrate [--up-to N]   apply the embedded schema migrations (forward-only)
//   rookery-admin bootstrap [--email E] [--password P] [--org SLUG] [--project SLUG] [--platform P]
//       create the first admin, organization, project, DSN key and an API token; prints them as
//       KEY=value lines (the token and any generated password are shown only here, once).
//   rookery-admin version               print the schema version of the database
#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <string>

#include "bootstrap.hpp"
#include "rookery/core/env.hpp"
#include "rookery/db/connection.hpp"
#include "rookery/db/migrations.hpp"
#include "rookery/log/log.hpp"

namespace {

int Usage() {
  std::cerr << "usage: rookery-admin migrate [--up-to N] | bootstrap [--email E] [--password P] [--org SLUG] "
               "[--project SLUG] [--platform P] | version\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  std::map<std::string, std::string> options;
  for (int i = 2; i < argc; ++i) {
    if (std::strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) return Usage();
    options[argv[i] + 2] = argv[i + 1];
    ++i;
  }
  try {
    rookery::log::Init("admin", /*to_stderr=*/true);
    const auto database = rookery::db::DatabaseConfigFromEnv();
    auto connection = rookery::db::Connect(database);
    if (command == "migrate") {
      const int up_to = options.count("up-to") ? std::stoi(options["up-to"]) : 0;
      const auto result = rookery::db::Migrate(*connection, up_to);
      spdlog::info("schema at version {} (was {})", result.to_version, result.from_version);
      return 0;
    }
    if (command == "version") {
      std::cout << rookery::db::SchemaVersion(*connection) << "\n";
      return 0;
    }
    if (command == "bootstrap") {
      rookery::admin::BootstrapRequest request;
      if (options.count("email")) request.email = options["email"];
      if (options.count("password")) request.password = options["password"];
      if (options.count("org")) request.org_slug = options["org"];
      if (options.count("project")) request.project_slug = options["project"];
      if (options.count("platform")) request.platform = options["platform"];
      request.relay_public_url = rookery::EnvString("ROOKERY_RELAY_PUBLIC_URL", "http://localhost:3000");
      const auto result = rookery::admin::Bootstrap(*connection, request);
      std::cout << "ROOKERY_ADMIN_EMAIL=" << request.email << "\n";
      if (!result.generated_password.empty())
        std::cout << "ROOKERY_ADMIN_PASSWORD=" << result.generated_password << "\n";
      std::cout << "ROOKERY_ORG=" << request.org_slug << "\n"
                << "ROOKERY_PROJECT=" << request.project_slug << "\n"
                << "ROOKERY_PROJECT_ID=" << result.project_id << "\n"
                << "ROOKERY_DSN=" << result.dsn << "\n"
                << "ROOKERY_API_TOKEN=" << result.api_token << "\n";
      return 0;
    }
    return Usage();
  } catch (const std::exception& e) {
    spdlog::critical("{} failed: {}", command, e.what());
    return 1;
  }
}
