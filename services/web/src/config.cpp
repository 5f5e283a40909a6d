#include "config.hpp"

#include "rookery/core/env.hpp"

// Set by CMake: the source tree's web/dist, or the Docker image's /usr/share/rookery/web.
#ifndef ROOKERY_WEB_ASSETS_DEFAULT
#define ROOKERY_WEB_ASSETS_DEFAULT ""
#endif

namespace rookery::web {

WebConfig WebConfigFromEnv() {
  WebConfig config;
  config.http.address = EnvString("ROOKERY_WEB_BIND", "0.0.0.0");
  config.http.port = static_cast<std::uint16_t>(EnvInt("ROOKERY_WEB_PORT", 9000, 0, 65535));
  config.http.max_body_bytes =
      static_cast<std::size_t>(EnvInt("ROOKERY_WEB_MAX_BODY_BYTES", 1024 * 1024, 1024, 1 << 30));
  config.io_threads = static_cast<int>(EnvInt("ROOKERY_WEB_THREADS", 1, 1, 64));
  config.db_threads = static_cast<int>(EnvInt("ROOKERY_WEB_DB_THREADS", 4, 1, 256));
  config.secret_key = EnvString("ROOKERY_SECRET_KEY", "");
  config.public_url = EnvString("ROOKERY_WEB_PUBLIC_URL", "http://localhost:" + std::to_string(config.http.port));
  while (!config.public_url.empty() && config.public_url.back() == '/') config.public_url.pop_back();
  config.relay_public_url = EnvString("ROOKERY_RELAY_PUBLIC_URL", "http://localhost:3000");
  while (!config.relay_public_url.empty() && config.relay_public_url.back() == '/') config.relay_public_url.pop_back();
  config.trust_forwarded_for = EnvInt("ROOKERY_WEB_TRUST_FORWARDED_FOR", 0, 0, 1) == 1;
  config.shutdown_grace = std::chrono::milliseconds(EnvInt("ROOKERY_SHUTDOWN_GRACE_MS", 10000, 0, 600000));
  config.assets_dir = EnvString("ROOKERY_WEB_ASSETS_DIR", ROOKERY_WEB_ASSETS_DEFAULT);
  config.database = db::DatabaseConfigFromEnv();
  return config;
}

}  // namespace rookery::web
