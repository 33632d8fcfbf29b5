#include "base/sha256.h"

#include <catch2/catch.hpp>

using namespace hartonomous;

TEST_CASE("SHA-256 matches the FIPS 180-2 test vectors") {
  CHECK(ToHex(Sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(ToHex(Sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("hex parsing accepts exactly 64 hex digits of either case") {
  const auto digest = Sha256("abc");
  auto upper = ToHex(digest);
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  REQUIRE(ParseSha256Hex(upper).has_value());
  CHECK(*ParseSha256Hex(upper) == digest);
  CHECK_FALSE(ParseSha256Hex("abc").has_value());
  CHECK_FALSE(ParseSha256Hex(std::string(63, 'a')).has_value());
  CHECK_FALSE(ParseSha256Hex(std::string(64, 'g')).has_value());
}

TEST_CASE("HMAC-SHA-256 matches RFC 4231 test case 2") {
  CHECK(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
