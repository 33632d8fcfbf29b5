// DeduplicationPolicy CRUD through the real daemon.
#include <catch2/catch.hpp>
#include <map>

#include "daemon_harness.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

std::map<std::string, v1::DeduplicationPolicy> AllPolicies(Client& client) {
  std::map<std::string, v1::DeduplicationPolicy> out;
  v1::ListPoliciesRequest request;
  request.set_page_size(2);  // several pages
  v1::ListPoliciesResponse page;
  do {
    REQUIRE(client.ListPolicies(request, &page).ok());
    for (const auto& p : page.policies()) out[p.policy_name()] = p;
    request.set_page_token(page.next_page_token());
  } while (!page.next_page_token().empty());
  return out;
}

}  // namespace

TEST_CASE("a new database has the strict, semantic and spatial policies", "[policies]") {
  Daemon daemon;
  auto policies = AllPolicies(daemon.client());
  REQUIRE(policies.size() == 3);
  const auto& strict = policies.at("strict");
  CHECK(strict.hash_enabled());
  CHECK_FALSE(strict.has_semantic_threshold());
  CHECK_FALSE(strict.has_spatial_threshold());
  CHECK(policies.at("semantic").semantic_threshold() == Approx(0.95));
  CHECK(policies.at("spatial").has_spatial_threshold());
  for (const auto& [name, p] : policies) CHECK(p.is_active());

  // Deleting a default sticks across restarts; it is not re-created.
  v1::DeletePolicyRequest del;
  del.set_policy_name("spatial");
  v1::DeletePolicyResponse deleted;
  REQUIRE(daemon.client().DeletePolicy(del, &deleted).ok());
  CHECK(deleted.policy_id() == policies.at("spatial").policy_id());
  CHECK(daemon.Stop() == 0);
  daemon.Start();
  auto after = AllPolicies(daemon.client());
  CHECK(after.size() == 2);
  CHECK(after.count("spatial") == 0);
}

TEST_CASE("create, get, update and delete a policy", "[policies]") {
  Daemon daemon;
  auto& client = daemon.client();
  v1::DeduplicationPolicy policy;
  policy.set_policy_name("images-near");
  policy.set_hash_enabled(true);
  policy.set_spatial_threshold(0.25);
  policy.set_is_active(true);
  policy.set_metadata(R"({"owner":"vision"})");
  v1::DeduplicationPolicy created;
  REQUIRE(client.CreatePolicy(policy, &created).ok());
  CHECK(created.policy_id() > 0);
  CHECK(created.spatial_threshold() == 0.25);
  CHECK_FALSE(created.has_semantic_threshold());

  grpc::Status dup = client.CreatePolicy(policy, &created);
  CHECK(dup.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK_THAT(dup.error_message(), Catch::Contains("policy_name"));

  v1::GetPolicyRequest by_name;
  by_name.set_policy_name("images-near");
  v1::DeduplicationPolicy got;
  REQUIRE(client.GetPolicy(by_name, &got).ok());
  CHECK(got.policy_id() == created.policy_id());
  CHECK(got.metadata() == policy.metadata());

  // Update only the semantic threshold and the name; the rest stays.
  v1::UpdatePolicyRequest update;
  update.mutable_policy()->set_policy_id(created.policy_id());
  update.mutable_policy()->set_policy_name("images-close");
  update.mutable_policy()->set_semantic_threshold(0.9);
  update.mutable_update_mask()->add_paths("semantic_threshold");
  update.mutable_update_mask()->add_paths("policy_name");
  v1::DeduplicationPolicy updated;
  REQUIRE(client.UpdatePolicy(update, &updated).ok());
  CHECK(updated.policy_name() == "images-close");
  CHECK(updated.semantic_threshold() == Approx(0.9));
  CHECK(updated.spatial_threshold() == 0.25);
  CHECK(updated.metadata() == policy.metadata());
  CHECK(client.GetPolicy(by_name, &got).error_code() == grpc::StatusCode::NOT_FOUND);
  by_name.set_policy_name("images-close");
  REQUIRE(client.GetPolicy(by_name, &got).ok());

  // Renaming onto an existing name is refused and changes nothing.
  update.mutable_policy()->set_policy_name("strict");
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("policy_name");
  CHECK(client.UpdatePolicy(update, &updated).error_code() == grpc::StatusCode::ALREADY_EXISTS);
  REQUIRE(client.GetPolicy(by_name, &got).ok());

  // Clearing a threshold: in the mask, unset in the message.
  v1::UpdatePolicyRequest clear;
  clear.mutable_policy()->set_policy_id(created.policy_id());
  clear.mutable_update_mask()->add_paths("spatial_threshold");
  REQUIRE(client.UpdatePolicy(clear, &updated).ok());
  CHECK_FALSE(updated.has_spatial_threshold());

  v1::DeletePolicyRequest del;
  del.set_policy_id(created.policy_id());
  v1::DeletePolicyResponse deleted;
  REQUIRE(client.DeletePolicy(del, &deleted).ok());
  CHECK(client.DeletePolicy(del, &deleted).error_code() == grpc::StatusCode::NOT_FOUND);
  // The name is free again.
  REQUIRE(client.CreatePolicy(policy, &created).ok());
}

TEST_CASE("bad policies get INVALID_ARGUMENT naming the field", "[policies][errors]") {
  Daemon daemon;
  auto& client = daemon.client();
  struct Case {
    const char* name;
    std::function<void(v1::DeduplicationPolicy&)> mutate;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"no name", [](auto& p) { p.clear_policy_name(); }, "policy_name"},
      {"bad name", [](auto& p) { p.set_policy_name("has space"); }, "policy_name"},
      {"semantic above 1", [](auto& p) { p.set_semantic_threshold(1.5); }, "semantic_threshold"},
      {"semantic zero", [](auto& p) { p.set_semantic_threshold(0); }, "semantic_threshold"},
      {"semantic NaN", [](auto& p) { p.set_semantic_threshold(std::nan("")); },
       "semantic_threshold"},
      {"negative spatial", [](auto& p) { p.set_spatial_threshold(-0.1); }, "spatial_threshold"},
      {"infinite spatial", [](auto& p) { p.set_spatial_threshold(INFINITY); }, "spatial_threshold"},
      {"bad metadata", [](auto& p) { p.set_metadata("[]"); }, "metadata"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    v1::DeduplicationPolicy policy;
    policy.set_policy_name("ok-name");
    c.mutate(policy);
    v1::DeduplicationPolicy created;
    grpc::Status status = client.CreatePolicy(policy, &created);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), Catch::Contains(c.field));
  }
  v1::UpdatePolicyRequest update;
  update.mutable_policy()->set_policy_name("strict");
  update.mutable_update_mask()->add_paths("created_at");
  v1::DeduplicationPolicy updated;
  grpc::Status status = client.UpdatePolicy(update, &updated);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("update_mask"));
  v1::GetPolicyRequest none;
  v1::DeduplicationPolicy got;
  CHECK(client.GetPolicy(none, &got).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListPoliciesRequest list;
  list.set_page_size(-3);
  v1::ListPoliciesResponse page;
  CHECK(client.ListPolicies(list, &page).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  // Nothing was created by the failures.
  CHECK(AllPolicies(client).size() == 3);
}
