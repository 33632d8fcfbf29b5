// The model tables as they are on disk, read straight from LMDB with the
// daemon stopped: row counts, tensor rows by kind, detached rows, and every
// "tensor" atom's reference count against the rows that hold one (each
// "tensor_atoms" row and each atom piece of a "model_files" record).
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "stopped_store.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::testing {

struct ModelStoreAudit {
  uint64_t models = 0;
  uint64_t layers = 0;
  uint64_t tensor_rows = 0;
  std::map<int, uint64_t> rows_by_kind;  // by storage::TensorKind
  uint64_t detached_rows = 0;            // layer_id 0 (their layer deleted)
  uint64_t staging_rows = 0;
  uint64_t tensor_atoms = 0;  // atom records of modality "tensor", active or not
  uint64_t active_tensor_atoms = 0;
  uint64_t unreferenced_atoms = 0;  // tensor atoms no row holds
  // "atom N: R references, H rows" and "atom N is missing".
  std::vector<std::string> mismatches;
};

inline ModelStoreAudit AuditModelStore(const std::string& dir) {
  const StoppedStore store = OpenStopped(dir);
  ModelStoreAudit audit;
  storage::ReadTxn txn(*store.env);
  REQUIRE(txn.status().ok());
  audit.models = txn.Count(store.tables.models).value();
  audit.layers = txn.Count(store.tables.model_layers).value();
  audit.staging_rows = txn.Count(store.tables.model_import_staging).value();
  std::map<uint64_t, int64_t> held;
  storage::TensorAtomTable tensors(store.tables);
  REQUIRE(tensors
              .ScanAll(txn,
                       [&](const storage::TensorChunkKey& key, storage::TensorAtomRecord&& row) {
                         ++audit.tensor_rows;
                         ++audit.rows_by_kind[static_cast<int>(key.kind)];
                         audit.detached_rows += row.layer_id() == 0;
                         ++held[row.atom_id()];
                         return true;
                       })
              .ok());
  REQUIRE(tensors.files()
              .ScanAfter(txn, 0,
                         [&](uint64_t, storage::ModelFileRecord&& file) {
                           for (const auto& piece : file.pieces()) {
                             if (piece.kind() != 3) ++held[piece.atom_id()];
                           }
                           return true;
                         })
              .ok());
  storage::AtomTable atoms(store.tables);
  std::set<uint64_t> seen;
  REQUIRE(atoms.records()
              .ScanAfter(txn, 0,
                         [&](uint64_t id, storage::AtomRecord&& atom) {
                           if (atom.modality() != "tensor") return true;
                           ++audit.tensor_atoms;
                           audit.active_tensor_atoms += atom.is_active();
                           seen.insert(id);
                           const int64_t refs = atom.is_active() ? atom.reference_count() : 0;
                           const int64_t expected = held.count(id) ? held[id] : 0;
                           if (expected == 0) ++audit.unreferenced_atoms;
                           if (refs != expected) {
                             audit.mismatches.push_back("atom " + std::to_string(id) + ": " +
                                                        std::to_string(refs) + " references, " +
                                                        std::to_string(expected) + " rows");
                           }
                           return true;
                         })
              .ok());
  for (const auto& [id, count] : held) {
    if (!seen.count(id)) audit.mismatches.push_back("atom " + std::to_string(id) + " is missing");
  }
  return audit;
}

}  // namespace hartonomous::testing
