#include "server/engine/common/page_token.h"

#include "base/big_endian.h"
#include "base/sha256.h"

namespace hartonomous::engine {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr size_t kRawSize = 24;  // last key, fingerprint, 8 bytes of HMAC

std::string Base64Url(std::string_view raw) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : raw) {
    acc = acc << 8 | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

bool DecodeBase64Url(std::string_view text, std::string* raw) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* p = std::char_traits<char>::find(kAlphabet, 64, c);
    if (p == nullptr) return false;
    acc = acc << 6 | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      raw->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Canonical only: a trailing character that carries no whole byte, or
  // padding bits that are not zero, is not what Base64Url writes (so one
  // token has exactly one spelling).
  return bits < 6 && (acc & ((1u << bits) - 1)) == 0;
}

}  // namespace

uint64_t PageTokenCodec::Fingerprint(std::initializer_list<std::string_view> parts) {
  std::string joined;
  for (auto part : parts) {
    AppendBe64(&joined, part.size());
    joined.append(part);
  }
  const auto digest = Sha256(joined);
  return ReadBe64(std::string_view(reinterpret_cast<const char*>(digest.data()), 8));
}

std::string PageTokenCodec::Encode(uint64_t last_key, uint64_t filter_fingerprint) const {
  std::string raw;
  AppendBe64(&raw, last_key);
  AppendBe64(&raw, filter_fingerprint);
  const auto mac = HmacSha256(key_, raw);
  raw.append(reinterpret_cast<const char*>(mac.data()), 8);
  return Base64Url(raw);
}

Result<uint64_t> PageTokenCodec::Decode(std::string_view token, uint64_t filter_fingerprint) const {
  std::string raw;
  if (!DecodeBase64Url(token, &raw) || raw.size() != kRawSize) {
    return Status::InvalidArgument("page_token: not a token issued by this server");
  }
  const auto mac = HmacSha256(key_, std::string_view(raw).substr(0, 16));
  if (raw.compare(16, 8, reinterpret_cast<const char*>(mac.data()), 8) != 0) {
    return Status::InvalidArgument("page_token: not a token issued by this server");
  }
  if (ReadBe64(std::string_view(raw).substr(8)) != filter_fingerprint) {
    return Status::InvalidArgument(
        "page_token: issued for a different filter; repeat the original filter or start over "
        "without a token");
  }
  return ReadBe64(raw);
}

std::string PageTokenCodec::EncodeBytes(std::string_view last_key,
                                        uint64_t filter_fingerprint) const {
  std::string raw(last_key);
  AppendBe64(&raw, filter_fingerprint);
  const auto mac = HmacSha256(key_, raw);
  raw.append(reinterpret_cast<const char*>(mac.data()), 8);
  return Base64Url(raw);
}

Result<std::string> PageTokenCodec::DecodeBytes(std::string_view token,
                                                uint64_t filter_fingerprint) const {
  std::string raw;
  if (!DecodeBase64Url(token, &raw) || raw.size() < 16) {
    return Status::InvalidArgument("page_token: not a token issued by this server");
  }
  const size_t body = raw.size() - 8;
  const auto mac = HmacSha256(key_, std::string_view(raw).substr(0, body));
  if (raw.compare(body, 8, reinterpret_cast<const char*>(mac.data()), 8) != 0) {
    return Status::InvalidArgument("page_token: not a token issued by this server");
  }
  if (ReadBe64(std::string_view(raw).substr(body - 8)) != filter_fingerprint) {
    return Status::InvalidArgument(
        "page_token: issued for a different filter; repeat the original filter or start over "
        "without a token");
  }
  return raw.substr(0, body - 8);
}

}  // namespace hartonomous::engine
