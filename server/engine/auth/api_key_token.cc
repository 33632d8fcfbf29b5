#include "server/engine/auth/api_key_token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

namespace hartonomous::engine {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::optional<uint64_t> ParseHex64(std::string_view hex) {
  uint64_t value = 0;
  for (char c : hex) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return value;
}

}  // namespace

Result<std::string> NewApiKeyToken(uint64_t key_id) {
  std::array<unsigned char, 32> secret;
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    return Status::Internal("API key: the random number generator failed");
  }
  std::string token(kApiKeyTokenPrefix);
  for (int shift = 60; shift >= 0; shift -= 4) token += kHex[(key_id >> shift) & 0xf];
  token += '_';
  for (unsigned char b : secret) {
    token += kHex[b >> 4];
    token += kHex[b & 0xf];
  }
  OPENSSL_cleanse(secret.data(), secret.size());
  return token;
}

std::optional<uint64_t> ApiKeyTokenId(std::string_view token) {
  if (token.size() != kApiKeyTokenSize || token.substr(0, 4) != kApiKeyTokenPrefix ||
      token[20] != '_') {
    return std::nullopt;
  }
  if (!ParseHex64(token.substr(21))) {
    // The secret part must be hex too (ParseHex64 only checks the digits;
    // its value overflows harmlessly).
    return std::nullopt;
  }
  return ParseHex64(token.substr(4, 16));
}

bool DigestsEqual(const Sha256Digest& a, std::string_view b) {
  if (b.size() != a.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace hartonomous::engine
