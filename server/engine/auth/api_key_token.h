// API key tokens: what a client sends as "authorization: Bearer TOKEN".
// A token is "htk_" + 16 lowercase hex digits (the key id) + "_" + 64
// lowercase hex digits (32 random bytes): 85 characters. The server keeps
// only its SHA-256; the id lets it find the one record to compare against.
//
// Thread-safety: pure functions (NewApiKeyToken reads the OpenSSL RNG,
// which is thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "base/status.h"

namespace hartonomous::engine {

inline constexpr std::string_view kApiKeyTokenPrefix = "htk_";
inline constexpr size_t kApiKeyTokenSize = 4 + 16 + 1 + 64;

// A fresh token for key_id; Internal when the RNG fails.
Result<std::string> NewApiKeyToken(uint64_t key_id);

// The key id of a well-formed token; nullopt for anything else.
std::optional<uint64_t> ApiKeyTokenId(std::string_view token);

// Constant-time equality of two digests (no early exit on the first
// differing byte).
bool DigestsEqual(const Sha256Digest& a, std::string_view b);

}  // namespace hartonomous::engine
