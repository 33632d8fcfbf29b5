// QuantizedCopy: the layers of a new model that is a quantized copy of a
// source model -- the work of QuantizeModel, shared with an import that
// quantizes what it imports (ImportModelStart.quantize).
//
// Prepare reads each chosen layer's values from the atoms its chunks name
// (stored, or staged by an import that has not committed yet), quantizes
// them (llama.cpp's Q8_0 / Q4_0 blocks, int8 per row with float32 row
// scales, f16, bf16), measures and checks the error (models::CheckErrorBound)
// and stages the new values as tensor atoms (TensorStore::Stage, one
// staging import of their own). Insert, inside the transaction that stores
// the copy's model row and layers, gives the copy its "tensor_atoms" rows:
// the quantized layers' new rows (taking the staged references), the other
// layers' rows shared with the source (one more reference each), and a copy
// of the source's "model_files" record. What was staged and not committed
// is released by the destructor.
//
// Errors of Prepare: NotFound "layers: <source> has no layer N";
// InvalidArgument naming the layer ("layers[3] ('w'): ...": NaN or
// infinite values, beyond fp16's range without saturate, a listed layer
// without float values or with rows that are not whole blocks of 32, a
// quantized layer without requantize); FailedPrecondition when no layer can
// be quantized; Internal when an error bound does not hold.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "server/engine/models/formats/quantize.h"
#include "server/engine/models/tensor_store.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {

// A layer of the source and the atoms (and byte lengths) of its kind-0
// values in chunk order (and of its kind-3 scales, for int8 layers).
struct SourceLayer {
  storage::ModelLayerRecord layer;
  std::vector<std::pair<uint64_t, uint64_t>> chunks;  // atom id, bytes
  std::vector<std::pair<uint64_t, uint64_t>> scales;  // kind 3 (int8 layers)
};

// What to quantize (QuantizeModelRequest's fields but the source and name).
struct QuantizeSpec {
  models::QuantType type = models::QuantType::kQ8_0;
  // Layers to quantize by layer_idx; empty = every layer with float values
  // whose shape suits the type (others are kept as they are).
  std::vector<uint32_t> layers;
  bool saturate = false;    // clamp values beyond fp16's range (counted)
  bool requantize = false;  // allow layers that are quantized already
};

struct LayerQuantization {
  uint32_t layer_idx = 0;
  std::string layer_name;
  bool quantized = false;
  std::string skipped;  // why a layer of "every layer" was kept as is
  std::string dtype_before, dtype_after;
  models::ErrorStats error;
  uint64_t saturated = 0;
  double scale = 0;  // the largest scale (int8, q8_0, q4_0)
  uint64_t bytes_before = 0, bytes_after = 0;
};

class QuantizedCopy {
 public:
  // REQUIRES: env, tables and store outlive the copy.
  QuantizedCopy(storage::Env& env, const storage::Tables& tables, TensorStore& store)
      : env_(env), tables_(tables), store_(store) {}
  ~QuantizedCopy();  // releases what was staged unless Committed()
  QuantizedCopy(const QuantizedCopy&) = delete;
  QuantizedCopy& operator=(const QuantizedCopy&) = delete;

  // Quantizes the chosen layers of source (in layer order; their atoms
  // readable in a read transaction) and stages the new values. source_name
  // names the source in messages (e.g. "model 7"). See the file comment.
  Status Prepare(const std::vector<SourceLayer>& source, const QuantizeSpec& spec,
                 const std::string& source_name);

  // After Prepare: one per source layer, in the source's order.
  const std::vector<LayerQuantization>& layers() const { return layers_; }
  // After Prepare: the copy's layer records (one per source layer), to be
  // prepared (PrepareNewModel) and inserted by the caller.
  const std::vector<storage::ModelLayerRecord>& records() const { return records_; }
  // The quantized values' pieces (for the writer's grouping).
  size_t pieces() const { return pieces_.size(); }

  // Inside the transaction that inserted the copy (model_id) and its
  // layers (written: records() as inserted, ids set), after the source's
  // rows are in place: the copy's "tensor_atoms" rows and file record (see
  // the file comment). Re-runnable. Returns the bytes of the weight rows
  // shared with the source.
  Result<uint64_t> Insert(storage::WriteTxn& txn, uint64_t source_id, uint64_t model_id,
                          const std::vector<SourceLayer>& source,
                          const std::vector<storage::ModelLayerRecord>& written, int64_t now_us);
  // The transaction that ran Insert committed: the staged references belong
  // to the copy's rows now.
  void Committed() { committed_ = true; }
  // Content bytes of the quantized values' atoms that were not stored before.
  uint64_t new_bytes_stored() const;

 private:
  struct Pending {
    size_t layer = 0;  // index in the source's layers
    storage::TensorKind kind = storage::TensorKind::kWeights;
    uint32_t chunk_index = 0;
    uint64_t byte_offset = 0;
    uint64_t length = 0;
    StagedAtom atom;
  };
  Status Stage();
  Status Cut(size_t layer, storage::TensorKind kind, std::string_view bytes,
             const std::string& subtype);

  storage::Env& env_;
  const storage::Tables& tables_;
  TensorStore& store_;
  std::vector<LayerQuantization> layers_;
  std::vector<storage::ModelLayerRecord> records_;
  uint64_t import_id_ = 0;
  uint32_t batch_ = 0;
  std::vector<Pending> pieces_;
  std::vector<StagePiece> pending_;
  std::vector<size_t> pending_index_;
  size_t pending_bytes_ = 0;
  bool committed_ = false;
};

}  // namespace hartonomous::engine
