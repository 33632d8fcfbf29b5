// TensorStore: model bytes (tensor chunks, file headers, padding) as
// content atoms, deduplicated by SHA-256 across every model and every other
// atom, and the references model rows hold on them.
//
// Staging: an import stores its pieces in batches, one write transaction
// each (bounded memory and bounded transactions, whatever the file size).
// Each staged piece gains one reference, held by the import's
// "model_import_staging" row until the import commits (the references pass
// to the model's "tensor_atoms" and "model_files" rows, ReleaseStaging with
// keep) or is abandoned (Abandon: each reference is released, and an atom
// the import created that nothing else references is deleted outright, so
// an abandoned import leaves nothing behind). An atom the abandoned import
// created that another import in progress still references passes to that
// import as if it had created it, so that whichever of overlapping
// imports of the same bytes is abandoned last deletes it. Imports cut
// short by a crash are abandoned at the next start (AbandonAll).
//
// Thread-safety: thread-safe; writes go through the WriteBatcher.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/import_staging_table.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

// The modality of every atom a model import stores.
inline constexpr char kTensorModality[] = "tensor";

// One piece to stage: its bytes, their SHA-256 and the subtype a new atom
// gets (e.g. "f32", "safetensors-header").
struct StagePiece {
  std::string content;
  Sha256Digest hash{};
  std::string subtype;
};

struct StagedAtom {
  uint64_t atom_id = 0;
  bool created = false;  // the import stored it (it was not stored before)
};

class TensorStore {
 public:
  // REQUIRES: env, tables and writer outlive the store.
  TensorStore(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer)
      : env_(env), tables_(tables), writer_(writer) {}

  // Stores (or references) the pieces in one write transaction, recorded as
  // batch `batch` of import *import_id (0: a new import id is assigned and
  // set). New contents are encoded on the calling thread. Result i belongs
  // to pieces[i]; a content given twice is created once and referenced
  // twice.
  Result<std::vector<StagedAtom>> Stage(uint64_t* import_id, uint32_t batch,
                                        const std::vector<StagePiece>& pieces);

  // Releases every reference the import's staging rows hold and deletes the
  // rows; atoms it created that end unreferenced are deleted, and those
  // another import in progress references become that import's creations.
  // Returns the atoms deleted. Idempotent.
  Result<uint64_t> Abandon(uint64_t import_id);
  // Abandons every import with staging rows (at start-up, before serving).
  // Returns the imports abandoned.
  Result<uint64_t> AbandonAll();

  // Inside txn: one reference more on a stored atom (an inactive one
  // becomes active with one reference). DataLoss when it is gone.
  //
  // Inside txn: one reference of atom_id fewer (ReleaseReference: inactive
  // at zero, purged later like any released atom). Nothing for an atom
  // that is gone or already inactive (deleted by a client meanwhile).
  static Status ReferenceOne(storage::WriteTxn& txn, storage::AtomTable& atoms, uint64_t atom_id,
                             int64_t now_us);
  // Inside txn: gives layer (to_model, to_idx, to_layer_id) the
  // "tensor_atoms" rows of layer (from_model, from_idx) -- every kind, or
  // every kind but the weights and scales when !weights -- each taking one
  // more reference on its atom. Returns the bytes of the weight rows shared.
  static Result<uint64_t> ShareLayerRows(storage::WriteTxn& txn, const storage::Tables& tables,
                                         storage::AtomTable& atoms, uint64_t from_model,
                                         uint32_t from_idx, uint64_t to_model, uint32_t to_idx,
                                         uint64_t to_layer_id, int64_t now_us, bool weights);
  // The reverse of ReferenceOne. When released is given, atom_id is added
  // to it if a reference was released (the atom was active).
  static Status ReleaseOne(storage::WriteTxn& txn, const storage::Tables& tables,
                           storage::AtomTable& atoms, uint64_t atom_id, int64_t now_us,
                           std::vector<uint64_t>* released = nullptr);

 private:
  // Inside txn: marks each of *atom_ids as created by the first other
  // import in progress whose staging rows reference it without having
  // created it, and erases it from *atom_ids; those no import references
  // stay in *atom_ids.
  static Status HandOverCreated(storage::WriteTxn& txn, const storage::ImportStagingTable& staging,
                                std::set<uint64_t>* atom_ids);

  storage::Env& env_;
  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
};

}  // namespace hartonomous::engine
