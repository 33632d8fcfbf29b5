#include "storage/schema.h"

#include <openssl/rand.h>

#include <chrono>

#include "storage/key_codec.h"

namespace hartonomous::storage {

const std::vector<TableInfo>& AllTables() {
  static const std::vector<TableInfo> kTables = {
      {"meta", &Tables::meta},
      {"sequences", &Tables::sequences},
      {"atoms", &Tables::atoms},
      {"atom_hash", &Tables::atom_hash},
      {"atom_hash_collisions", &Tables::atom_hash_collisions},
      {"atom_payload", &Tables::atom_payload},
      {"atoms_by_refcount", &Tables::atoms_by_refcount},
      {"atoms_inactive", &Tables::atoms_inactive},
      {"dedup_counters", &Tables::dedup_counters},
      {"atom_embeddings", &Tables::atom_embeddings},
      {"atom_embedding_components", &Tables::atom_embedding_components},
      {"atom_relations", &Tables::atom_relations},
      {"atom_relations_reverse", &Tables::atom_relations_reverse},
      {"tensor_atoms_by_atom", &Tables::tensor_atoms_by_atom},
      {"atom_children", &Tables::atom_children},
      {"atom_containers", &Tables::atom_containers},
      {"collections", &Tables::collections},
      {"collection_names", &Tables::collection_names},
      {"embeddings_by_seq", &Tables::embeddings_by_seq},
      {"projections", &Tables::projections},
      {"models", &Tables::models},
      {"model_names", &Tables::model_names},
      {"model_layers", &Tables::model_layers},
      {"model_metadata", &Tables::model_metadata},
      {"tensor_atoms", &Tables::tensor_atoms},
      {"tensor_atom_coefficients", &Tables::tensor_atom_coefficients},
      {"inference_requests", &Tables::inference_requests},
      {"inference_by_time", &Tables::inference_by_time},
      {"inference_steps", &Tables::inference_steps},
      {"cached_activations", &Tables::cached_activations},
      {"document_sources", &Tables::document_sources},
      {"document_sources_by_root", &Tables::document_sources_by_root},
      {"dedup_policies", &Tables::dedup_policies},
      {"policy_names", &Tables::policy_names},
  };
  return kTables;
}

namespace {

std::string Be32(uint32_t v) {
  std::string out;
  AppendBe32(&out, v);
  return out;
}

}  // namespace

Result<Tables> OpenTables(Env& env) {
  Tables tables{};
  // The version is checked before any other table is opened (opening
  // creates missing tables): a refused data dir is left as it was.
  HT_ASSIGN_OR_RETURN(tables.meta, env.OpenDbi("meta", 0));
  {
    ReadTxn txn(env);
    HT_RETURN_IF_ERROR(txn.status());
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables.meta, "schema_version", &value));
    if (found) {
      if (value.size() != 4) return Status::DataLoss("meta.schema_version: malformed");
      const uint32_t stored = ReadBe32(value);
      if (stored > kSchemaVersion) {
        return Status::FailedPrecondition("data dir has schema version " + std::to_string(stored) +
                                          "; this hartonomousd supports up to " +
                                          std::to_string(kSchemaVersion));
      }
      if (stored < kSchemaVersion) {
        return Status::FailedPrecondition(
            "data dir has schema version " + std::to_string(stored) +
            " (written by an earlier hartonomousd); this hartonomousd reads version " +
            std::to_string(kSchemaVersion) +
            " only. Open it with the earlier release, or ingest the content again into a new "
            "--data-dir; the old data dir was not changed");
      }
    }
  }
  for (const auto& info : AllTables()) {
    HT_ASSIGN_OR_RETURN(tables.*(info.member), env.OpenDbi(info.name, 0));
  }
  WriteTxn txn(env, nullptr);
  HT_RETURN_IF_ERROR(txn.status());
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables.meta, "schema_version", &value));
  if (found) return tables;
  HT_RETURN_IF_ERROR(txn.Put(tables.meta, "schema_version", Be32(kSchemaVersion)));
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), 32) != 1) {
    return Status::Internal("RAND_bytes failed");
  }
  HT_RETURN_IF_ERROR(txn.Put(tables.meta, "page_token_key", key));
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  HT_RETURN_IF_ERROR(txn.Put(tables.meta, "created_at_us", Be64Key(static_cast<uint64_t>(now))));
  HT_RETURN_IF_ERROR(txn.Commit());
  return tables;
}

Result<std::string> ReadMeta(Env& env, const Tables& tables, const std::string& key) {
  ReadTxn txn(env);
  HT_RETURN_IF_ERROR(txn.status());
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables.meta, key, &value));
  if (!found) return Status::NotFound("meta." + key + " is missing");
  return std::string(value);
}

}  // namespace hartonomous::storage
