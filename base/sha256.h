// SHA-256 content identity (OpenSSL) and its hex form.
//
// Thread-safety: free functions, safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hartonomous {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);

// 64 lowercase hex characters.
std::string ToHex(const Sha256Digest& digest);
// Accepts exactly 64 hex characters, either case; nullopt otherwise.
std::optional<Sha256Digest> ParseSha256Hex(std::string_view hex);

// SHA-256 of a byte stream fed in pieces (a file arriving in messages).
// Thread-safety: one thread at a time.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  // The digest of everything fed so far. REQUIRES: called once, last.
  Sha256Digest Finish();

 private:
  void* ctx_;  // EVP_MD_CTX
};

// HMAC-SHA-256(key, data).
Sha256Digest HmacSha256(std::string_view key, std::string_view data);

}  // namespace hartonomous
