// LayerValuesWriter: one SetLayerValues write -- a layer's per-weight
// importance (kind 1) or temporal values (kind 2), float32 in flat index
// order, stored as "tensor_atoms" rows like weights: cut into
// kDefaultChunkBytes chunks, each a content atom deduplicated by SHA-256.
//
// Chunks are staged as they fill (TensorStore::Stage, batches of about
// 8 MiB: memory stays bounded whatever the layer's size), holding one
// reference each until Finish commits. Finish, in one transaction: the
// layer's old rows of the kind are deleted and their references released,
// the new rows written (taking the staged references), and the atoms whose
// last reference was released purged at once (ModelEngine::AtomPurger).
// Dropped without a successful Finish, the writer releases what it staged
// (an atom it created that nothing else references is deleted), so a
// failed or cancelled write stores nothing.
//
// Errors: Begin -- NotFound as GetLayer. Add -- InvalidArgument
// "values[<i>]: must be finite, got NaN|Inf", "values: layer <id> ('<name>')
// has <n> parameters, got more values", "values: none may follow
// start.clear". Finish -- InvalidArgument "values: layer ... has <n>
// parameters, got <m> values"; NotFound when the layer was deleted
// meanwhile.
//
// Thread-safety: one writer belongs to one call, used from one thread at a
// time (not always the same one); writers of different calls run
// concurrently (writes go through the WriteBatcher).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/engine/models/model_engine.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {

struct LayerValuesOptions {
  LayerKey layer;
  // kImportance or kTemporal. REQUIRES: one of them.
  storage::TensorKind kind = storage::TensorKind::kImportance;
  bool clear = false;  // remove the stored values; no values may follow
};

struct LayerValuesReport {
  storage::ModelLayerRecord layer;
  storage::TensorKind kind = storage::TensorKind::kImportance;
  uint64_t values = 0;
  uint64_t chunks = 0;
  uint64_t new_bytes_stored = 0;
  uint64_t rows_replaced = 0;
  uint64_t atoms_purged = 0;
};

class LayerValuesWriter {
 public:
  explicit LayerValuesWriter(ModelEngine& engine) : engine_(engine) {}
  ~LayerValuesWriter();
  LayerValuesWriter(const LayerValuesWriter&) = delete;
  LayerValuesWriter& operator=(const LayerValuesWriter&) = delete;

  Status Begin(const LayerValuesOptions& options);
  // The next n values. REQUIRES: Begin succeeded.
  Status Add(const float* values, size_t n);
  // REQUIRES: Begin succeeded; called once.
  Result<LayerValuesReport> Finish();

 private:
  Status CutChunk();      // chunk_ -> pending_
  Status StagePending();  // pending_ -> staged atoms

  ModelEngine& engine_;
  LayerValuesOptions options_;
  storage::ModelLayerRecord layer_;  // as Begin found it
  uint64_t received_ = 0;
  std::string chunk_;  // the bytes of the chunk being filled
  struct Chunk {
    uint64_t offset = 0;
    uint64_t length = 0;
    StagedAtom atom;
  };
  std::vector<Chunk> chunks_;
  std::vector<StagePiece> pending_;  // cut, not yet staged (the last chunks_)
  size_t pending_bytes_ = 0;
  uint64_t import_id_ = 0;  // the staging rows' id (0 = none yet)
  uint32_t batch_ = 0;
  bool committed_ = false;
};

}  // namespace hartonomous::engine
