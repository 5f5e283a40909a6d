#include "rookery/db/connection.hpp"

#include <pqxx/pqxx>

#include "rookery/core/env.hpp"

namespace rookery::db {

DatabaseConfig DatabaseConfigFromEnv() {
  DatabaseConfig config;
  config.url = EnvString("ROOKERY_DATABASE_URL", "postgresql:///rookery");
  config.connect_timeout = std::chrono::seconds(EnvInt("ROOKERY_DATABASE_CONNECT_TIMEOUT_SECONDS", 5, 1, 300));
  config.statement_timeout =
      std::chrono::milliseconds(EnvInt("ROOKERY_DATABASE_STATEMENT_TIMEOUT_MS", 30000, 100, 3600000));
  return config;
}

std::unique_ptr<pqxx::connection> Connect(const DatabaseConfig& config) {
  // libpq reads PGCONNECT_TIMEOUT whatever form the URL takes (keyword list or URI), so the
  // timeout applies without rewriting the operator's string. An explicit value in the URL wins.
  ::setenv("PGCONNECT_TIMEOUT", std::to_string(config.connect_timeout.count()).c_str(), 0);
  auto connection = std::make_unique<pqxx::connection>(config.url);
  pqxx::nontransaction tx(*connection);
  tx.exec("SET statement_timeout = " + std::to_string(config.statement_timeout.count()));
  tx.exec("SET lock_timeout = " + std::to_string(config.statement_timeout.count()));
  return connection;
}

}  // namespace rookery::db
