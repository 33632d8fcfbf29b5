// Opaque page tokens for list methods: base64url of (last key, filter
// fingerprint, HMAC). The HMAC key is per data dir (meta.page_token_key), so
// a token this database did not issue is rejected, and the fingerprint makes
// reuse with a different filter an error rather than a wrong page.
//
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hartonomous::engine {

class PageTokenCodec {
 public:
  explicit PageTokenCodec(std::string key) : key_(std::move(key)) {}

  std::string Encode(uint64_t last_key, uint64_t filter_fingerprint) const;
  // The last key of the previous page. InvalidArgument naming `page_token`
  // when the token is malformed, forged, or was issued for another filter.
  Result<uint64_t> Decode(std::string_view token, uint64_t filter_fingerprint) const;

  // The same for a composite key (e.g. the rest of a relation key).
  std::string EncodeBytes(std::string_view last_key, uint64_t filter_fingerprint) const;
  Result<std::string> DecodeBytes(std::string_view token, uint64_t filter_fingerprint) const;

  // Stable 64-bit fingerprint of the parts of a filter.
  static uint64_t Fingerprint(std::initializer_list<std::string_view> parts);

 private:
  std::string key_;
};

}  // namespace hartonomous::engine
