// rookery::core — MD5, because Sentry's grouping hash is md5 over the contributing values.
// Not for anything security-related.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace rookery {

class Md5 {
 public:
  Md5();
  void Update(std::string_view data);
  /// Finishes the digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 16> Finish();
  /// Lowercase hex of Finish().
  std::string FinishHex();

 private:
  void Transform(const std::uint8_t* block);

  std::array<std::uint32_t, 4> state_;
  std::uint64_t length_bytes_ = 0;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
};

/// md5 of `data` as 32 lowercase hex digits.
std::string Md5Hex(std::string_view data);

}  // namespace rookery
