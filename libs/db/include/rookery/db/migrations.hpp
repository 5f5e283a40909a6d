// rookery::db — numbered, forward-only, transactional schema migrations, embedded in the binary.
#pragma once

#include <string>
#include <vector>

#include <pqxx/connection>

namespace rookery::db {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& EmbeddedMigrations();

struct MigrateResult {
  int from_version = 0;
  int to_version = 0;
};

/// Applies every migration above the database's version, each in its own transaction together
/// with its schema_migrations row. Concurrent callers serialize on an advisory lock, so several
/// services may start at once. `up_to` (0 = all) stops early, for upgrade tests. Throws
/// std::runtime_error when the database is newer than this build.
MigrateResult Migrate(pqxx::connection& connection, int up_to = 0);

/// The highest applied version (0 for an empty database).
int SchemaVersion(pqxx::connection& connection);

}  // namespace rookery::db
