// rookery::db — PostgreSQL connections with the limits every Rookery connection must have.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <pqxx/connection>

namespace rookery::db {

struct DatabaseConfig {
  std::string url;  // libpq connection string or postgresql:// URL (ROOKERY_DATABASE_URL)
  std::chrono::seconds connect_timeout{5};
  std::chrono::milliseconds statement_timeout{30000};
};

/// ROOKERY_DATABASE_URL (default "postgresql:///rookery"), ROOKERY_DATABASE_CONNECT_TIMEOUT_SECONDS,
/// ROOKERY_DATABASE_STATEMENT_TIMEOUT_MS.
DatabaseConfig DatabaseConfigFromEnv();

/// Opens a connection with connect and statement timeouts applied. Throws pqxx::broken_connection.
std::unique_ptr<pqxx::connection> Connect(const DatabaseConfig& config);

}  // namespace rookery::db
