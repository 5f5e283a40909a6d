// rookery::core — the 16-byte event identity shared by every stage (Sentry's UUID event_id).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rookery {

class EventId {
 public:
  static constexpr std::size_t kSize = 16;
  using Bytes = std::array<std::uint8_t, kSize>;

  EventId() = default;
  explicit EventId(const Bytes& bytes) : bytes_(bytes) {}

  /// Accepts 32 hex digits or the dashed 8-4-4-4-12 form, either case. Rejects anything else.
  static std::optional<EventId> Parse(std::string_view text);
  /// Builds from exactly 16 raw bytes (the Kafka key and the contract field).
  static std::optional<EventId> FromBytes(std::string_view raw);
  /// A random version-4 UUID, for events whose SDK sent none.
  static EventId Random();

  /// Lowercase 32 hex, no dashes: what Sentry answers and stores.
  [[nodiscard]] std::string ToHex() const;
  /// 8-4-4-4-12 form, as PostgreSQL's uuid type prints it.
  [[nodiscard]] std::string ToUuidString() const;
  [[nodiscard]] std::string_view AsBytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  [[nodiscard]] bool IsNil() const;

  friend bool operator==(const EventId&, const EventId&) = default;

 private:
  Bytes bytes_{};
};

}  // namespace rookery
