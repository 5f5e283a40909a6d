// Web/API configuration from ROOKERY_* variables.
#pragma once

#include <chrono>
#include <string>

#include "rookery/db/connection.hpp"
#include "rookery/http/server.hpp"

namespace rookery::web {

struct WebConfig {
  http::ServerOptions http;
  int io_threads = 1;
  int db_threads = 4;  // blocking queries run here, one connection each, never on I/O threads
  std::string public_url = "http://localhost:9000";  // for permalinks
  std::string secret_key;  // checks the unsubscribe links in alert mail; empty: they are refused
  std::string relay_public_url = "http://localhost:3000";  // DSNs of keys the API creates
  bool trust_forwarded_for = false;  // client IP for login throttling from X-Forwarded-For's last hop
  std::chrono::milliseconds shutdown_grace{10000};
  // The built web UI (web/dist); empty: API only.
  std::string assets_dir;
  db::DatabaseConfig database;
};

WebConfig WebConfigFromEnv();

}  // namespace rookery::web
