#include "server/engine/common/page_token.h"

#include <catch2/catch.hpp>

using namespace hartonomous;
using hartonomous::engine::PageTokenCodec;

TEST_CASE("page tokens round-trip and are bound to key and filter") {
  PageTokenCodec codec(std::string(32, 'k'));
  const uint64_t fp = PageTokenCodec::Fingerprint({"text", "", "", "*"});
  const std::string token = codec.Encode(12345, fp);
  auto decoded = codec.Decode(token, fp);
  REQUIRE(decoded.ok());
  CHECK(*decoded == 12345);

  const uint64_t other = PageTokenCodec::Fingerprint({"image", "", "", "*"});
  CHECK(other != fp);
  auto wrong_filter = codec.Decode(token, other);
  CHECK(wrong_filter.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(wrong_filter.status().message(), Catch::Contains("different filter"));

  PageTokenCodec other_db(std::string(32, 'x'));
  CHECK(other_db.Decode(token, fp).status().code() == Status::Code::kInvalidArgument);

  std::string tampered = token;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  CHECK_FALSE(codec.Decode(tampered, fp).ok());
  CHECK_FALSE(codec.Decode("!!!", fp).ok());
  CHECK_FALSE(codec.Decode("", fp).ok());
}

TEST_CASE("fingerprints separate their parts") {
  CHECK(PageTokenCodec::Fingerprint({"ab", "c"}) != PageTokenCodec::Fingerprint({"a", "bc"}));
}

TEST_CASE("a page token has one spelling: other spellings of its bytes are refused") {
  PageTokenCodec codec(std::string(32, 'k'));
  const uint64_t fp = PageTokenCodec::Fingerprint({"relations"});
  // 18 bytes of key + 16 = 34 raw bytes: 46 characters, whose last one
  // carries 2 bits of data and 4 of padding (its low 4 bits).
  const std::string key(18, 'r');
  const std::string token = codec.EncodeBytes(key, fp);
  REQUIRE(codec.DecodeBytes(token, fp).ok());
  REQUIRE(token.size() == 46);
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const size_t last = kAlphabet.find(token.back());
  REQUIRE((last & 0xf) == 0);
  std::string padded = token;
  padded.back() = kAlphabet[last | 1];  // same bytes, a padding bit set
  CHECK(codec.DecodeBytes(padded, fp).status().code() == Status::Code::kInvalidArgument);
  CHECK_FALSE(codec.DecodeBytes(token + "A", fp).ok());  // a character with no whole byte
}
