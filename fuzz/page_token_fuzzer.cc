// libFuzzer target for page tokens, which clients send back verbatim: any
// bytes decode to an error naming page_token or, only if they are a token
// this codec issued for this filter, to the key it encoded. A decoded token
// re-encodes to itself, and no input crashes or allocates beyond its size.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/engine/common/page_token.h"

using namespace hartonomous;
using namespace hartonomous::engine;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  static const PageTokenCodec codec(std::string(32, 'k'));
  const uint64_t fingerprint = PageTokenCodec::Fingerprint({"atoms", "text"});

  auto key = codec.Decode(token, fingerprint);
  if (key.ok()) {
    if (codec.Encode(*key, fingerprint) != token) std::abort();
  } else if (key.status().code() != Status::Code::kInvalidArgument ||
             key.status().message().find("page_token") == std::string::npos) {
    std::abort();
  }
  auto bytes = codec.DecodeBytes(token, fingerprint);
  if (bytes.ok()) {
    if (codec.EncodeBytes(*bytes, fingerprint) != token) std::abort();
  } else if (bytes.status().code() != Status::Code::kInvalidArgument) {
    std::abort();
  }
  // The input as a key round-trips through a token.
  auto back = codec.DecodeBytes(codec.EncodeBytes(token, fingerprint), fingerprint);
  if (!back.ok() || *back != token) std::abort();
  // A token issued for another filter is refused.
  if (codec.DecodeBytes(codec.EncodeBytes(token, fingerprint), fingerprint + 1).ok()) std::abort();
  return 0;
}
