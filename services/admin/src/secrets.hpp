// Random credentials and password hashing (libsodium).
#pragma once

#include <cstddef>
#include <string>

namespace rookery::admin {

/// `bytes` random bytes as lowercase hex (2*bytes characters).
std::string RandomHex(std::size_t bytes);
/// argon2id in libsodium's self-describing string format.
std::string HashPassword(const std::string& password);

}  // namespace rookery::admin
