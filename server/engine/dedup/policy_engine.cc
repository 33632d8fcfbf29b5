#include "server/engine/dedup/policy_engine.h"

#include "base/clock.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/common/await_result.h"
#include "server/engine/common/id_page.h"
#include "storage/tables/meta_table.h"

namespace hartonomous::engine {

using storage::PolicyRecord;

namespace {

constexpr char kSeededMeta[] = "default_policies_created";

Status NoSuchPolicy(const PolicyKey& key) {
  if (key.policy_id != 0) {
    return Status::NotFound("policy_id: policy " + std::to_string(key.policy_id) +
                            " does not exist");
  }
  return Status::NotFound("policy_name: no policy is named '" + key.policy_name + "'");
}

// The stored policy a key names; NotFound when there is none.
Result<PolicyRecord> Resolve(storage::Txn& txn, const storage::PolicyTable& table,
                             const PolicyKey& key) {
  std::optional<PolicyRecord> record;
  if (key.policy_id != 0) {
    HT_ASSIGN_OR_RETURN(record, table.Find(txn, key.policy_id));
  } else {
    HT_ASSIGN_OR_RETURN(record, table.FindByName(txn, key.policy_name));
  }
  if (!record) return NoSuchPolicy(key);
  return std::move(*record);
}

PolicyRecord Default(const std::string& name, std::optional<double> semantic,
                     std::optional<double> spatial, const std::string& description, int64_t now) {
  PolicyRecord p = NewPolicyRecord(name, semantic, spatial);
  p.set_metadata(R"({"description":")" + description + R"(","default":true})");
  p.set_created_at_us(now);
  p.set_updated_at_us(now);
  return p;
}

}  // namespace

PolicyRecord NewPolicyRecord(const std::string& name, std::optional<double> semantic,
                             std::optional<double> spatial) {
  PolicyRecord p;
  p.set_policy_name(name);
  p.set_hash_enabled(true);
  if (semantic) {
    p.set_has_semantic_threshold(true);
    p.set_semantic_threshold(*semantic);
  }
  if (spatial) {
    p.set_has_spatial_threshold(true);
    p.set_spatial_threshold(*spatial);
  }
  p.set_is_active(true);
  return p;
}

PolicyEngine::PolicyEngine(storage::Env& env, const storage::Tables& tables,
                           storage::WriteBatcher& writer, std::string page_token_key)
    : env_(env),
      tables_(tables),
      policies_(tables),
      writer_(writer),
      tokens_(std::move(page_token_key)) {}

Status PolicyEngine::EnsureDefaults() {
  const int64_t now = NowMicros();
  return writer_.Write(
      [&](storage::WriteTxn& txn) -> Status {
        const storage::MetaTable meta(tables_);
        HT_ASSIGN_OR_RETURN(auto seeded, meta.Find(txn, kSeededMeta));
        if (seeded) return Status::Ok();
        std::vector<PolicyRecord> defaults = {
            Default("strict", std::nullopt, std::nullopt, "exact SHA-256 matching only", now),
            Default("semantic", 0.95, std::nullopt,
                    "reuse an atom whose embedding has cosine similarity >= 0.95", now),
            Default("spatial", std::nullopt, 0.05,
                    "reuse an atom whose projected point lies within 0.05", now),
        };
        for (auto& policy : defaults) {
          HT_ASSIGN_OR_RETURN(auto taken, policies_.FindId(txn, policy.policy_name()));
          if (!taken) HT_RETURN_IF_ERROR(policies_.Insert(txn, &policy).status());
        }
        return meta.PutTime(txn, kSeededMeta, now);
      },
      0, 0);
}

Result<PolicyRecord> PolicyEngine::Create(PolicyRecord policy) {
  return AwaitResult<PolicyRecord>(
      [&](PolicyDone done) { CreateAsync(std::move(policy), std::move(done)); });
}

void PolicyEngine::CreateAsync(PolicyRecord policy, PolicyDone done) {
  const int64_t now = NowMicros();
  policy.set_created_at_us(now);
  policy.set_updated_at_us(now);
  WriteThen<PolicyRecord>(
      writer_,
      [this, policy = std::move(policy)](storage::WriteTxn& txn, PolicyRecord& stored) -> Status {
        stored = policy;
        return policies_.Insert(txn, &stored).status();
      },
      std::move(done));
}

Result<PolicyRecord> PolicyEngine::Get(const PolicyKey& key) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  return Resolve(txn, policies_, key);
}

Result<PolicyPage> PolicyEngine::List(std::optional<bool> is_active, int page_size,
                                      std::string_view page_token, ResponseBudget* budget) {
  const uint64_t fingerprint =
      PageTokenCodec::Fingerprint({"policies", is_active ? (*is_active ? "1" : "0") : "*"});
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(
      auto found,
      ReadIdPage<PolicyRecord>(
          txn, policies_.records(), tokens_, fingerprint, page_token, page_size,
          [&](const PolicyRecord& r) { return !is_active || r.is_active() == *is_active; }, budget,
          // The API policy carries the same fields; 64 bytes cover the timestamps.
          [](const PolicyRecord& r) { return r.ByteSizeLong() + 64; }, "policy"));
  PolicyPage page;
  page.policies = std::move(found.records);
  page.next_page_token = std::move(found.next_page_token);
  return page;
}

Result<PolicyRecord> PolicyEngine::Update(const PolicyKey& key, const PolicyPatch& patch) {
  return AwaitResult<PolicyRecord>(
      [&](PolicyDone done) { UpdateAsync(key, patch, std::move(done)); });
}

void PolicyEngine::UpdateAsync(PolicyKey key, PolicyPatch patch, PolicyDone done) {
  const int64_t now = NowMicros();
  WriteThen<PolicyRecord>(
      writer_,
      [this, key = std::move(key), patch = std::move(patch), now](storage::WriteTxn& txn,
                                                                  PolicyRecord& result) -> Status {
        HT_ASSIGN_OR_RETURN(PolicyRecord policy, Resolve(txn, policies_, key));
        const std::string old_name = policy.policy_name();
        if (patch.policy_name) policy.set_policy_name(*patch.policy_name);
        if (patch.hash_enabled) policy.set_hash_enabled(*patch.hash_enabled);
        if (patch.semantic_threshold) {
          policy.set_has_semantic_threshold(patch.semantic_threshold->has_value());
          policy.set_semantic_threshold(patch.semantic_threshold->value_or(0));
        }
        if (patch.spatial_threshold) {
          policy.set_has_spatial_threshold(patch.spatial_threshold->has_value());
          policy.set_spatial_threshold(patch.spatial_threshold->value_or(0));
        }
        if (patch.is_active) policy.set_is_active(*patch.is_active);
        if (patch.metadata) policy.set_metadata(*patch.metadata);
        policy.set_updated_at_us(now);
        HT_RETURN_IF_ERROR(policies_.Update(txn, old_name, policy));
        result = policy;
        return Status::Ok();
      },
      std::move(done));
}

Result<uint64_t> PolicyEngine::Delete(const PolicyKey& key) {
  return AwaitResult<uint64_t>([&](DeleteDone done) { DeleteAsync(key, std::move(done)); });
}

void PolicyEngine::DeleteAsync(PolicyKey key, DeleteDone done) {
  WriteThen<uint64_t>(
      writer_,
      [this, key = std::move(key)](storage::WriteTxn& txn, uint64_t& id) -> Status {
        HT_ASSIGN_OR_RETURN(PolicyRecord policy, Resolve(txn, policies_, key));
        id = policy.policy_id();
        return policies_.Remove(txn, policy);
      },
      std::move(done));
}

}  // namespace hartonomous::engine
