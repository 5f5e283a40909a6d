#include <sodium.h>

#include <array>

#include "rookery/notify/webhook.hpp"

namespace rookery::notify {
namespace {

void InitSodiumOnce() {
  // sodium_init picks the fastest implementations for this CPU; it is idempotent and thread-safe,
  // and the HMAC below is correct (only slower) even if it were to fail.
  static const int init = sodium_init();
  (void)init;
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  InitSodiumOnce();
  // The streaming API, not crypto_auth_hmacsha256(): that one takes exactly 32-byte keys, and
  // webhook secrets are whatever the user pasted in.
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);
  std::array<char, crypto_auth_hmacsha256_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
  return {hex.data(), hex.size() - 1};
}

std::string SignWebhook(std::string_view secret, std::int64_t timestamp, std::string_view body) {
  std::string signed_text = std::to_string(timestamp);
  signed_text += '.';
  signed_text += body;
  return "sha256=" + HmacSha256Hex(secret, signed_text);
}

bool VerifyWebhookSignature(std::string_view secret, std::int64_t timestamp, std::string_view body,
                            std::string_view signature_header) {
  const std::string expected = SignWebhook(secret, timestamp, body);
  if (signature_header.size() != expected.size()) return false;
  return sodium_memcmp(expected.data(), signature_header.data(), expected.size()) == 0;
}

}  // namespace rookery::notify
