#include "rookery/protocol/json_limits.hpp"

#include <utility>
#include <vector>

namespace rookery::protocol {

std::size_t JsonDepth(const rapidjson::Value& value) {
  std::size_t deepest = 0;
  std::vector<std::pair<const rapidjson::Value*, std::size_t>> pending{{&value, 0}};
  while (!pending.empty()) {
    const auto [current, depth] = pending.back();
    pending.pop_back();
    if (current->IsObject()) {
      deepest = std::max(deepest, depth + 1);
      for (const auto& member : current->GetObject()) pending.emplace_back(&member.value, depth + 1);
    } else if (current->IsArray()) {
      deepest = std::max(deepest, depth + 1);
      for (const auto& item : current->GetArray()) pending.emplace_back(&item, depth + 1);
    }
  }
  return deepest;
}

}  // namespace rookery::protocol
