#include "rookery/db/migrations.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include <stdexcept>

namespace rookery::db {
namespace {

// Any constant works as long as every Rookery binary uses the same one.
constexpr long long kMigrationLockKey = 0x526f6f6b657279;  // "Rookery"

void EnsureTable(pqxx::connection& connection) {
  pqxx::work tx(connection);
  tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
  tx.commit();
}

}  // namespace

int SchemaVersion(pqxx::connection& connection) {
  pqxx::work tx(connection);
  const auto exists = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return 0;
  const auto row = tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
  return row[0][0].as<int>();
}

MigrateResult Migrate(pqxx::connection& connection, int up_to) {
  {
    pqxx::nontransaction lock(connection);
    lock.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")");
  }
  MigrateResult result;
  try {
    EnsureTable(connection);
    result.from_version = SchemaVersion(connection);
    result.to_version = result.from_version;
    const auto& migrations = EmbeddedMigrations();
    const int newest_known = migrations.empty() ? 0 : migrations.back().version;
    if (result.from_version > newest_known) {
      throw std::runtime_error("database schema version " + std::to_string(result.from_version) +
                               " is newer than this build knows (" + std::to_string(newest_known) +
                               "): run a newer Rookery");
    }
    connection.prepare("rookery_record_migration", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)");
    for (const auto& migration : migrations) {
      if (migration.version <= result.from_version) continue;
      if (up_to > 0 && migration.version > up_to) break;
      pqxx::work tx(connection);
      tx.exec(migration.sql);
      tx.exec_prepared("rookery_record_migration", migration.version, migration.name);
      tx.commit();
      result.to_version = migration.version;
      spdlog::info("migrated database to {} ({})", migration.version, migration.name);
    }
  } catch (...) {
    pqxx::nontransaction unlock(connection);
    unlock.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
    throw;
  }
  pqxx::nontransaction unlock(connection);
  unlock.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
  return result;
}

}  // namespace rookery::db
