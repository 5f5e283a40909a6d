// The relay's in-memory view of project_keys: every request is authorized from memory, never
// with a database round trip. A background loader (key_loader.hpp) swaps in fresh snapshots.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rookery::relay {

struct ProjectKey {
  std::int64_t key_id = 0;
  std::int64_t project_id = 0;
  bool active = true;
  std::int64_t rate_limit_count = 0;  // 0: unlimited
  std::int64_t rate_limit_window_seconds = 0;
  std::vector<std::string> allowed_origins = {"*"};
};

using KeySnapshot = std::unordered_map<std::string, ProjectKey>;  // public key -> key

class KeyCache {
 public:
  std::optional<ProjectKey> Find(std::string_view public_key) const;
  void Replace(KeySnapshot snapshot);
  bool Loaded() const;
  std::size_t Size() const;

 private:
  mutable std::mutex mutex_;  // guards the pointer only; lookups read an immutable snapshot
  std::shared_ptr<const KeySnapshot> snapshot_;
};

}  // namespace rookery::relay
