// The plans ModelEngine::ExportModel streams: the header, then a list of
// reads -- literal bytes, stored atoms, or a run of a layer's values
// dequantized to a float dtype -- whose bytes, concatenated, are the file.
// Planning reads only the catalog rows (never tensor bytes); the reads are
// done later, batch by batch, in short read transactions.
//
//   PlanStoredFile (model_export_file.cc): the model's "model_files"
//     record: an imported file as it was (with an ONNX model's external
//     data files, each its own list of reads), or a quantized copy's source
//     file(s) with each quantized layer's bytes replaced by its dequantized
//     values in the file's dtype (same length: every other byte stays
//     valid; in the external file for an external tensor).
//   PlanBuiltSafetensors (model_export_safetensors.cc): a safetensors file
//     of the layers (Q8_0 / Q4_0 blocks as U8 bytes, int8 row scales as
//     "<name>.scale").
//   PlanBuiltGguf (model_export_gguf.cc): a GGUF v3 file of the layers.
//
// Errors name the layer ("layer 3 ('w')") and the rule:
// FailedPrecondition for a dtype the format cannot hold, a layer without
// its stored values, a quantized layer whose values cannot be written back
// to the file's dtype.
//
// Thread-safety: pure functions over the transaction given.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "server/engine/models/model_engine.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"

namespace hartonomous::engine {

// A layer and its stored chunks: (atom id, bytes) in order.
struct ExportLayer {
  storage::ModelLayerRecord layer;
  std::vector<std::pair<uint64_t, uint64_t>> chunks;  // kind 0, the values
  std::vector<std::pair<uint64_t, uint64_t>> scales;  // kind 3, int8 row scales
};

struct ExportRead {
  // Exactly one of: literal bytes (atom_id 0, layer -1), an atom's content
  // (atom_id), values [first, first + count) of layers[layer] dequantized
  // and written as dtype.
  uint64_t atom_id = 0;
  uint64_t length = 0;  // the bytes this read yields
  std::string literal;
  int64_t layer = -1;
  uint64_t first = 0;
  uint64_t count = 0;
  std::string dtype;

  static ExportRead Atom(uint64_t atom_id, uint64_t length) {
    ExportRead r;
    r.atom_id = atom_id;
    r.length = length;
    return r;
  }
  static ExportRead Literal(std::string bytes) {
    ExportRead r;
    r.length = bytes.size();
    r.literal = std::move(bytes);
    return r;
  }
  // REQUIRES: length == count x the bytes of a dtype value.
  static ExportRead Values(size_t layer, uint64_t first, uint64_t count, std::string dtype,
                           uint64_t length) {
    ExportRead r;
    r.layer = static_cast<int64_t>(layer);
    r.first = first;
    r.count = count;
    r.dtype = std::move(dtype);
    r.length = length;
    return r;
  }
};

// An ONNX model's external data file, streamed after the model file.
struct ExportExternal {
  ModelEngine::ExportExternalHeader header;
  std::vector<ExportRead> reads;
};

struct ExportPlan {
  ModelEngine::ExportHeader header;
  std::vector<ExportRead> reads;
  // The headers' SHA-256 are the files' (an import).
  bool check_sha256 = false;
  std::vector<ExportExternal> externals;  // in the order they were imported
};

// Values per dequantized read (bounded memory per batch).
inline constexpr uint64_t kDequantizeRunValues = uint64_t{1} << 20;

// "layer 3 ('name')".
std::string LayerWhat(const storage::ModelLayerRecord& layer);
// The bytes of a layer's kind-0 chunks.
uint64_t StoredBytes(const ExportLayer& layer);
// FailedPrecondition naming the layer unless its chunks hold exactly
// `expected` bytes (what its shape and dtype take in the file being built).
Status CheckStoredBytes(const ExportLayer& layer, uint64_t expected);

// The kind-0 rows of a deleted layer (DeleteLayer leaves them detached with
// the model, so its file still exports): (atom id, byte length) in chunk
// order, and the dtype of their bytes.
struct DetachedValues {
  std::vector<std::pair<uint64_t, uint64_t>> chunks;
  std::string dtype;
};

// detached: by layer_idx, for the file's tensor pieces whose layer is gone.
Result<ExportPlan> PlanStoredFile(uint64_t model_id, const storage::ModelFileRecord& file,
                                  const std::vector<ExportLayer>& layers,
                                  const std::map<uint32_t, DetachedValues>& detached);
Result<ExportPlan> PlanBuiltSafetensors(const ModelView& view,
                                        const std::vector<ExportLayer>& layers);
Result<ExportPlan> PlanBuiltGguf(const ModelView& view, const std::vector<ExportLayer>& layers);

}  // namespace hartonomous::engine
