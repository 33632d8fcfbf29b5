// PolicyEngine: the DeduplicationPolicy table — create, read, list, update,
// delete, with a unique policy name, and the default policies of a new
// database ('strict', 'semantic', 'spatial'). Transport-free.
//
// Inputs are assumed validated field by field (server/rpc/atom/atom_validation.h); the
// engine enforces what needs the database (existence, name uniqueness).
//
// Thread-safety: thread-safe; writes go through the WriteBatcher.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "server/engine/common/page_token.h"
#include "server/engine/common/response_budget.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/policy_table.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

// The fields UpdatePolicy may change; each set optional is applied.
struct PolicyPatch {
  std::optional<std::string> policy_name;
  std::optional<bool> hash_enabled;
  std::optional<std::optional<double>> semantic_threshold;  // inner nullopt = clear
  std::optional<std::optional<double>> spatial_threshold;
  std::optional<bool> is_active;
  std::optional<std::string> metadata;
};

// A policy named by id, or by name when the id is 0.
struct PolicyKey {
  uint64_t policy_id = 0;
  std::string policy_name;
};

// An active policy record with hash matching and the given thresholds (an
// absent one: no matching of that kind); no metadata, no timestamps.
storage::PolicyRecord NewPolicyRecord(const std::string& name, std::optional<double> semantic,
                                      std::optional<double> spatial);

struct PolicyPage {
  std::vector<storage::PolicyRecord> policies;
  std::string next_page_token;
};

class PolicyEngine {
 public:
  // REQUIRES: env, tables and writer outlive the engine.
  PolicyEngine(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
               std::string page_token_key);
  PolicyEngine(const PolicyEngine&) = delete;
  PolicyEngine& operator=(const PolicyEngine&) = delete;

  // Creates the default policies once in a database's life (deleting them
  // later is allowed and sticks).
  Status EnsureDefaults();

  // AlreadyExists naming policy_name when the name is taken.
  Result<storage::PolicyRecord> Create(storage::PolicyRecord policy);
  Result<storage::PolicyRecord> Get(const PolicyKey& key);
  // page_size: REQUIRES 1..1000. With a budget the page ends early (with a
  // next_page_token) before the first policy that would not fit.
  Result<PolicyPage> List(std::optional<bool> is_active, int page_size, std::string_view page_token,
                          ResponseBudget* budget = nullptr);
  Result<storage::PolicyRecord> Update(const PolicyKey& key, const PolicyPatch& patch);
  Result<uint64_t> Delete(const PolicyKey& key);

  // Create, Update and Delete without waiting for the commit: done receives
  // their result on the writer thread after the commit (short, must not
  // block).
  using PolicyDone = std::function<void(Result<storage::PolicyRecord>)>;
  using DeleteDone = std::function<void(Result<uint64_t>)>;
  void CreateAsync(storage::PolicyRecord policy, PolicyDone done);
  void UpdateAsync(PolicyKey key, PolicyPatch patch, PolicyDone done);
  void DeleteAsync(PolicyKey key, DeleteDone done);

 private:
  storage::Env& env_;
  const storage::Tables& tables_;
  const storage::PolicyTable policies_;
  storage::WriteBatcher& writer_;
  PageTokenCodec tokens_;
};

}  // namespace hartonomous::engine
