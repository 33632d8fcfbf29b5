#include "server/engine/dedup/policy_engine.h"

#include <catch2/catch.hpp>

#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

struct Fixture {
  testing::TempEnv t;
  storage::WriteBatcher writer{t.env()};
  PolicyEngine policies{t.env(), t.tables(), writer, std::string(32, 'k')};
};

storage::PolicyRecord Named(const std::string& name) {
  storage::PolicyRecord p;
  p.set_policy_name(name);
  p.set_hash_enabled(true);
  p.set_is_active(true);
  return p;
}

}  // namespace

TEST_CASE("defaults are created once, a deleted default stays deleted") {
  Fixture f;
  REQUIRE(f.policies.EnsureDefaults().ok());
  REQUIRE(f.policies.EnsureDefaults().ok());
  auto page = f.policies.List(std::nullopt, 10, "");
  REQUIRE(page->policies.size() == 3);
  REQUIRE(f.policies.Delete(PolicyKey{0, "semantic"}).ok());
  REQUIRE(f.policies.EnsureDefaults().ok());
  CHECK(f.policies.List(std::nullopt, 10, "")->policies.size() == 2);
}

TEST_CASE("names are unique across create and rename, the name index follows") {
  Fixture f;
  auto a = f.policies.Create(Named("a"));
  auto b = f.policies.Create(Named("b"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(f.policies.Create(Named("a")).status().code() == Status::Code::kAlreadyExists);
  PolicyPatch rename;
  rename.policy_name = "b";
  CHECK(f.policies.Update(PolicyKey{a->policy_id(), ""}, rename).status().code() ==
        Status::Code::kAlreadyExists);
  rename.policy_name = "c";
  REQUIRE(f.policies.Update(PolicyKey{a->policy_id(), ""}, rename).ok());
  CHECK(f.policies.Get(PolicyKey{0, "a"}).status().code() == Status::Code::kNotFound);
  CHECK(f.policies.Get(PolicyKey{0, "c"})->policy_id() == a->policy_id());
  CHECK(f.policies.Create(Named("a")).ok());
}

TEST_CASE("list filters by activity and pages") {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    auto p = Named("p" + std::to_string(i));
    p.set_is_active(i % 2 == 0);
    REQUIRE(f.policies.Create(p).ok());
  }
  auto active = f.policies.List(true, 2, "");
  REQUIRE(active->policies.size() == 2);
  REQUIRE_FALSE(active->next_page_token.empty());
  auto rest = f.policies.List(true, 2, active->next_page_token);
  REQUIRE(rest->policies.size() == 1);
  CHECK(rest->next_page_token.empty());
  CHECK(f.policies.List(false, 2, active->next_page_token).status().code() ==
        Status::Code::kInvalidArgument);
}
