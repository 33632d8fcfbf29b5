// API key tokens: their format, the id they carry, and what is not a token.
#include "server/engine/auth/api_key_token.h"

#include <catch2/catch.hpp>
#include <set>

#include "server/engine/auth/role.h"

using namespace hartonomous;
using namespace hartonomous::engine;

TEST_CASE("a new token carries its key id and differs every time") {
  std::set<std::string> seen;
  for (uint64_t id : {uint64_t{1}, uint64_t{42}, uint64_t{0xfedcba9876543210}}) {
    auto token = NewApiKeyToken(id);
    REQUIRE(token.ok());
    CHECK(token->size() == kApiKeyTokenSize);
    CHECK(token->rfind("htk_", 0) == 0);
    CHECK(ApiKeyTokenId(*token) == id);
    CHECK(seen.insert(token->substr(21)).second);
  }
  auto again = NewApiKeyToken(42);
  REQUIRE(again.ok());
  CHECK(seen.insert(again->substr(21)).second);
}

TEST_CASE("malformed tokens have no id") {
  const std::string good = NewApiKeyToken(7).value();
  CHECK_FALSE(ApiKeyTokenId(""));
  CHECK_FALSE(ApiKeyTokenId(good.substr(1)));
  CHECK_FALSE(ApiKeyTokenId(good + "0"));
  std::string upper = good;
  upper[30] = 'G';
  CHECK_FALSE(ApiKeyTokenId(upper));
  std::string no_sep = good;
  no_sep[20] = '-';
  CHECK_FALSE(ApiKeyTokenId(no_sep));
  std::string prefix = good;
  prefix[0] = 'x';
  CHECK_FALSE(ApiKeyTokenId(prefix));
}

TEST_CASE("digests compare by value, sizes must match") {
  const Sha256Digest a = Sha256("a");
  const std::string same(reinterpret_cast<const char*>(a.data()), a.size());
  CHECK(DigestsEqual(a, same));
  std::string other = same;
  other[31] ^= 1;
  CHECK_FALSE(DigestsEqual(a, other));
  CHECK_FALSE(DigestsEqual(a, same.substr(0, 31)));
}

TEST_CASE("roles are ordered and named") {
  CHECK(RoleAllows(Role::kAdmin, Role::kWrite));
  CHECK(RoleAllows(Role::kWrite, Role::kWrite));
  CHECK_FALSE(RoleAllows(Role::kRead, Role::kWrite));
  CHECK(RoleName(Role::kRead) == "read");
  CHECK(RoleFromValue(3) == Role::kAdmin);
  CHECK_FALSE(RoleFromValue(0));
  CHECK_FALSE(RoleFromValue(4));
}
