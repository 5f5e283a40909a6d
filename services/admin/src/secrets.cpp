#include "secrets.hpp"

#include <sodium.h>

#include <stdexcept>
#include <vector>

namespace rookery::admin {

std::string RandomHex(std::size_t bytes) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialize");
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

std::string HashPassword(const std::string& password) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialize");
  char hashed[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hashed, password.c_str(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return hashed;
}

}  // namespace rookery::admin
