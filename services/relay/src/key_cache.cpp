#include "key_cache.hpp"

namespace rookery::relay {

std::optional<ProjectKey> KeyCache::Find(std::string_view public_key) const {
  std::shared_ptr<const KeySnapshot> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = snapshot_;
  }
  if (!snapshot) return std::nullopt;
  auto it = snapshot->find(std::string(public_key));
  if (it == snapshot->end()) return std::nullopt;
  return it->second;
}

void KeyCache::Replace(KeySnapshot snapshot) {
  auto fresh = std::make_shared<const KeySnapshot>(std::move(snapshot));
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(fresh);
}

bool KeyCache::Loaded() const {
  std::lock_guard lock(mutex_);
  return snapshot_ != nullptr;
}

std::size_t KeyCache::Size() const {
  std::lock_guard lock(mutex_);
  return snapshot_ ? snapshot_->size() : 0;
}

}  // namespace rookery::relay
