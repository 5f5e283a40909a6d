// Keeps the KeyCache fresh: a full load at start, then LISTEN rookery_project_keys (a trigger on
// project_keys notifies on every change) with a periodic full reload as a safety net. Database
// trouble never empties the cache: the relay keeps serving the last good snapshot.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "key_cache.hpp"
#include "rookery/db/connection.hpp"

namespace rookery::relay {

class KeyLoader {
 public:
  KeyLoader(KeyCache& cache, db::DatabaseConfig database, std::chrono::seconds full_reload);
  ~KeyLoader();
  /// Loads once synchronously (throws if the database is unreachable at start-up), then keeps
  /// the cache fresh on a background thread.
  void Start();
  void Stop();

 private:
  void Run();

  KeyCache& cache_;
  db::DatabaseConfig database_;
  std::chrono::seconds full_reload_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace rookery::relay
