// TensorAtomTable: the stored values of model layers and the pieces of
// imported model files, and every key encoding of them.
//
//   "tensor_atoms": be64(model_id) be32(layer_idx) u8(kind) be32(chunk_index)
//                   -> TensorAtomRecord (one row per chunk; one reference on
//                      its atom)
//   "model_files":  be64(model_id) -> ModelFileRecord (the imported file's
//                   pieces; each atom piece holds one reference)
//
// A layer's values of one kind are the concatenation of its chunks' atom
// contents in chunk order. This table stores rows only: taking and
// releasing the references the rows hold is the caller's (the model
// engine's), in the same transaction.
//
// Errors: a row that does not parse or a key of the wrong length ->
// DataLoss naming the table and the key.
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/id_table.h"

namespace hartonomous::storage {

// What a layer's "tensor_atoms" rows hold (the u8 of the key).
enum class TensorKind : uint8_t {
  kWeights = 0,     // the values as the file holds them
  kImportance = 1,  // per-weight importance (the geometry's Z)
  kTemporal = 2,    // per-weight temporal values (the geometry's M)
  kScales = 3,      // an int8 layer's per-row float32 scales
};

// The address of one "tensor_atoms" row.
struct TensorChunkKey {
  uint64_t model_id = 0;
  uint32_t layer_idx = 0;
  TensorKind kind = TensorKind::kWeights;
  uint32_t chunk_index = 0;
};

class TensorAtomTable {
 public:
  explicit TensorAtomTable(const Tables& t) : t_(t), files_(t.model_files, "model_files") {}

  Status Put(WriteTxn& txn, const TensorChunkKey& key, const TensorAtomRecord& record) const;

  // Calls visit(key, row) for the rows of one layer and kind in chunk
  // order, until visit returns false.
  Status ScanLayer(
      Txn& txn, uint64_t model_id, uint32_t layer_idx, TensorKind kind,
      const std::function<bool(const TensorChunkKey&, TensorAtomRecord&&)>& visit) const;
  // Calls visit(key, row) for every row of the model, in key order, until
  // visit returns false.
  Status ScanModel(
      Txn& txn, uint64_t model_id,
      const std::function<bool(const TensorChunkKey&, TensorAtomRecord&&)>& visit) const;
  // Calls visit(key, row) for every row of every model, in key order,
  // until visit returns false.
  Status ScanAll(
      Txn& txn, const std::function<bool(const TensorChunkKey&, TensorAtomRecord&&)>& visit) const {
    return Scan(txn, std::string(), visit);
  }
  // Deletes the rows of one layer and kind; returns how many.
  Result<uint64_t> RemoveLayer(WriteTxn& txn, uint64_t model_id, uint32_t layer_idx,
                               TensorKind kind) const;
  // Deletes every row of the model; returns how many.
  Result<uint64_t> RemoveModel(WriteTxn& txn, uint64_t model_id) const;

  // The imported file's pieces ("model_files").
  const IdTable<ModelFileRecord>& files() const { return files_; }

  // Key encodings, for tests and docs/storage_format.md.
  static std::string Key(const TensorChunkKey& key);
  static Result<TensorChunkKey> ParseKey(std::string_view key);

 private:
  Status Scan(Txn& txn, const std::string& prefix,
              const std::function<bool(const TensorChunkKey&, TensorAtomRecord&&)>& visit) const;

  Tables t_;  // the table handles (a copy: plain values)
  IdTable<ModelFileRecord> files_;
};

}  // namespace hartonomous::storage
