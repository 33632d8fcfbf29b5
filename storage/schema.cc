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
      {"payload_blocks", &Tables::payload_blocks},
      {"payload_block_refs", &Tables::payload_block_refs},
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
      {"models_by_type", &Tables::models_by_type},
      {"models_by_architecture", &Tables::models_by_architecture},
      {"model_layer_ids", &Tables::model_layer_ids},
      {"model_files", &Tables::model_files},
      {"model_import_staging", &Tables::model_import_staging},
      {"inference_by_model", &Tables::inference_by_model},
      {"inference_by_task", &Tables::inference_by_task},
      {"inference_request_ids", &Tables::inference_request_ids},
      {"inference_aggregates", &Tables::inference_aggregates},
      {"activation_stats", &Tables::activation_stats},
      {"api_keys", &Tables::api_keys},
      {"api_key_names", &Tables::api_key_names},
      {"atom_pending_releases", &Tables::atom_pending_releases},
      {"inference_segments", &Tables::inference_segments},
  };
  return kTables;
}

std::array<std::string, 4> InferenceSlotTableNames(size_t slot) {
  std::array<std::string, 4> names = {"inference_requests", "inference_by_time",
                                      "inference_by_model", "inference_by_task"};
  if (slot > 0) {
    for (std::string& name : names) name += "." + std::to_string(slot);
  }
  return names;
}

Result<Tables> OpenTables(Env& env, uint32_t* migrate_from) {
  Tables tables{};
  // The version is checked before any other table is opened (opening
  // creates missing tables): a refused data dir is left as it was.
  HT_ASSIGN_OR_RETURN(tables.meta, env.OpenDbi("meta", 0));
  if (migrate_from != nullptr) *migrate_from = kSchemaVersion;
  {
    ReadTxn txn(env);
    HT_RETURN_IF_ERROR(txn.status());
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables.meta, "schema_version", &value));
    uint32_t stored = kSchemaVersion;
    if (found) {
      if (value.size() != 4) return Status::DataLoss("meta.schema_version: malformed");
      stored = ReadBe32(value);
    }
    if (stored > kSchemaVersion) {
      return Status::FailedPrecondition("data dir has schema version " + std::to_string(stored) +
                                        "; this hartonomousd supports up to " +
                                        std::to_string(kSchemaVersion));
    }
    // An interrupted migration recorded the version it started from.
    HT_ASSIGN_OR_RETURN(bool pending, txn.Get(tables.meta, "migration_from", &value));
    if (pending) {
      if (value.size() != 4) return Status::DataLoss("meta.migration_from: malformed");
      stored = ReadBe32(value);
    }
    if (stored < kSchemaVersion) {
      if (stored < kOldestMigratableVersion || migrate_from == nullptr) {
        return Status::FailedPrecondition("data dir has schema version " + std::to_string(stored) +
                                          (pending ? " (its migration was interrupted)" : "") +
                                          "; start hartonomousd on it to migrate it to version " +
                                          std::to_string(kSchemaVersion));
      }
      *migrate_from = stored;
    }
  }
  // Every table in one transaction (a new data dir commits once).
  std::vector<std::string> names;
  for (const auto& info : AllTables()) names.emplace_back(info.name);
  for (size_t slot = 1; slot < kInferenceSlots; ++slot) {
    for (std::string& name : InferenceSlotTableNames(slot)) names.push_back(std::move(name));
  }
  if (names.size() > kMaxNamedDatabases) {
    return Status::Internal("schema: " + std::to_string(names.size()) +
                            " tables exceed kMaxNamedDatabases");
  }
  HT_ASSIGN_OR_RETURN(std::vector<MDB_dbi> dbis, env.OpenDbis(names, 0));
  size_t next = 0;
  for (const auto& info : AllTables()) tables.*(info.member) = dbis[next++];
  tables.inference_slots[0] = {tables.inference_requests, tables.inference_by_time,
                               tables.inference_by_model, tables.inference_by_task};
  for (size_t slot = 1; slot < kInferenceSlots; ++slot) {
    InferenceSlotTables& t = tables.inference_slots[slot];
    for (MDB_dbi* dbi : {&t.requests, &t.by_time, &t.by_model, &t.by_task}) *dbi = dbis[next++];
  }
  WriteTxn txn(env, nullptr);
  HT_RETURN_IF_ERROR(txn.status());
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables.meta, "schema_version", &value));
  if (found) return tables;
  HT_RETURN_IF_ERROR(txn.Put(tables.meta, "schema_version", Be32Key(kSchemaVersion)));
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
