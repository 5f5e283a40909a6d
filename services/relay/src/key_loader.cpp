#include "key_loader.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include <sstream>

namespace rookery::relay {
namespace {

constexpr const char* kChannel = "rookery_project_keys";

KeySnapshot LoadAll(pqxx::connection& connection) {
  pqxx::read_transaction tx(connection);
  KeySnapshot snapshot;
  // array_to_string with a separator no host pattern contains: libpqxx 6.4 has no array reader.
  for (const auto& row :
       tx.exec("SELECT public_key, id, project_id, is_active, coalesce(rate_limit_count, 0), "
               "coalesce(rate_limit_window_seconds, 0), array_to_string(allowed_origins, ' ') FROM project_keys")) {
    ProjectKey key{row[1].as<std::int64_t>(), row[2].as<std::int64_t>(), row[3].as<bool>(),
                   row[4].as<std::int64_t>(), row[5].as<std::int64_t>(), {}};
    std::istringstream origins(row[6].as<std::string>());
    for (std::string origin; origins >> origin;) key.allowed_origins.push_back(origin);
    snapshot.emplace(row[0].as<std::string>(), std::move(key));
  }
  return snapshot;
}

class ChangeListener : public pqxx::notification_receiver {
 public:
  ChangeListener(pqxx::connection& connection, bool& changed)
      : pqxx::notification_receiver(connection, kChannel), changed_(changed) {}
  void operator()(const std::string&, int) override { changed_ = true; }

 private:
  bool& changed_;
};

}  // namespace

KeyLoader::KeyLoader(KeyCache& cache, db::DatabaseConfig database, std::chrono::seconds full_reload)
    : cache_(cache), database_(std::move(database)), full_reload_(full_reload) {}

KeyLoader::~KeyLoader() {
  Stop();
}

void KeyLoader::Start() {
  auto connection = db::Connect(database_);
  cache_.Replace(LoadAll(*connection));
  spdlog::info("key cache loaded: {} keys", cache_.Size());
  thread_ = std::thread([this] { Run(); });
}

void KeyLoader::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void KeyLoader::Run() {
  auto backoff = std::chrono::milliseconds(200);
  while (!stop_.load()) {
    try {
      auto connection = db::Connect(database_);
      bool changed = false;
      ChangeListener listener(*connection, changed);
      // Load after LISTEN so that no change between the two can be missed.
      cache_.Replace(LoadAll(*connection));
      backoff = std::chrono::milliseconds(200);
      auto last_full = std::chrono::steady_clock::now();
      while (!stop_.load()) {
        connection->await_notification(0, 250000);  // wake up 4x a second to notice Stop()
        const bool due = std::chrono::steady_clock::now() - last_full >= full_reload_;
        if (changed || due) {
          changed = false;
          cache_.Replace(LoadAll(*connection));
          last_full = std::chrono::steady_clock::now();
          spdlog::debug("key cache reloaded: {} keys", cache_.Size());
        }
      }
    } catch (const std::exception& e) {
      spdlog::warn("key cache: database unavailable ({}); serving the last snapshot, retrying in {} ms", e.what(),
                   backoff.count());
      const auto until = std::chrono::steady_clock::now() + backoff;
      while (!stop_.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

}  // namespace rookery::relay
