// ModelTable: the model catalog's rows and every key encoding of them.
//
//   "models":                 be64(model_id) -> ModelRecord
//   "model_names":            model_name -> be64(model_id)          (unique)
//   "models_by_type":         model_type 0x00 be64(model_id) -> ""  (non-empty types)
//   "models_by_architecture": architecture 0x00 be64(model_id) -> ""
//   "model_metadata":         be64(model_id) -> ModelMetadataRecord (one per model)
//   "model_layers":           be64(model_id) be32(layer_idx) -> ModelLayerRecord
//   "model_layer_ids":        be64(layer_id) -> be64(model_id) be32(layer_idx)
//
// Model ids come from the "model_id" sequence, layer ids from "layer_id".
// The secondary indexes follow the record: Insert writes them, Update moves
// them when the indexed field changed, Remove deletes them with the record,
// its metadata row and its layers.
//
// Errors: a model name already used -> AlreadyExists "model.model_name: a model
// named '<name>' already exists"; a layer_idx already used in the model ->
// AlreadyExists "layer_idx: model <id> already has layer <idx>"; a row that
// does not parse or an index entry without its row -> DataLoss naming the
// table and the key. Lookups of absent keys return nullopt: the caller
// names the request field.
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/id_table.h"
#include "storage/tables/named_table.h"

namespace hartonomous::storage {

// The orders in which models can be scanned: each is a table whose keys
// list model ids.
enum class ModelIndex {
  kId,            // "models": every model, by id
  kName,          // "model_names": by name, optionally under a name prefix
  kType,          // "models_by_type": one model_type, by id
  kArchitecture,  // "models_by_architecture": one architecture, by id
};

class ModelTable : public NamedTable<ModelRecord> {
 public:
  explicit ModelTable(const Tables& t);

  // --- models ---
  // Stores a new model (id from the "model_id" sequence, set in *record), its
  // index entries and its metadata row (metadata.model_id is set to the
  // new id). AlreadyExists when the name is taken.
  // REQUIRES: record->model_name() is not empty.
  Result<uint64_t> Insert(WriteTxn& txn, ModelRecord* record, ModelMetadataRecord metadata) const;
  // Rewrites a stored model and its metadata row, moving the name, type and
  // architecture index entries that changed. REQUIRES: `old` is the stored
  // record of record.model_id().
  Status Update(WriteTxn& txn, const ModelRecord& old, const ModelRecord& record,
                const ModelMetadataRecord& metadata) const;
  // Deletes the model, its index entries, its metadata row and every one of
  // its layers (with their "model_layer_ids" entries). Returns the layers
  // removed.
  Result<uint64_t> Remove(WriteTxn& txn, const ModelRecord& record) const;

  // The model's metadata row; an empty record (with model_id set) when the
  // row is missing.
  Result<ModelMetadataRecord> GetMetadata(Txn& txn, uint64_t model_id) const;

  // Calls visit(position, model_id) for the models of one index, in that
  // index's order, from just after `after` (empty = from the start) until
  // visit returns false. `value` selects: kName, a name prefix (empty =
  // every name); kType and kArchitecture, the exact type or architecture
  // (REQUIRES: not empty); kId, nothing (ignored). `position` is opaque: pass
  // it back as `after` to resume after that model.
  Status ScanModels(
      Txn& txn, ModelIndex index, std::string_view value, std::string_view after,
      const std::function<bool(std::string_view position, uint64_t model_id)>& visit) const;

  // --- layers ---
  // Stores a new layer of layer->model_id() (id from the "layer_id"
  // sequence, set in *layer) and its id index entry. AlreadyExists when the
  // model has a layer with that layer_idx. Does not change the model record
  // (its layer_count is the caller's).
  Result<uint64_t> InsertLayer(WriteTxn& txn, ModelLayerRecord* layer) const;
  Result<std::optional<ModelLayerRecord>> FindLayer(Txn& txn, uint64_t model_id,
                                                    uint32_t layer_idx) const;
  // By layer id, through "model_layer_ids".
  Result<std::optional<ModelLayerRecord>> FindLayerById(Txn& txn, uint64_t layer_id) const;
  // Calls visit(layer) for the model's layers with layer_idx >= first_idx,
  // in layer_idx order, until visit returns false.
  Status ScanLayers(Txn& txn, uint64_t model_id, uint64_t first_idx,
                    const std::function<bool(ModelLayerRecord&& layer)>& visit) const;
  // Rewrites a stored layer's row (fields kept up to date by other domains,
  // e.g. cache_hit_rate). REQUIRES: the layer is stored under its model_id
  // and layer_idx, and layer_id is unchanged.
  Status PutLayer(WriteTxn& txn, const ModelLayerRecord& layer) const;
  // Deletes one stored layer's row and its "model_layer_ids" entry. Does
  // not change the model record (its layer_count is the caller's).
  Status RemoveLayer(WriteTxn& txn, const ModelLayerRecord& layer) const;

  // Key encodings, for tests and docs/storage_format.md.
  static std::string IndexKey(std::string_view value, uint64_t model_id);
  static std::string LayerKey(uint64_t model_id, uint32_t layer_idx);

 private:
  Status PutIndex(WriteTxn& txn, MDB_dbi dbi, std::string_view value, uint64_t model_id) const;
  Status DelIndex(WriteTxn& txn, MDB_dbi dbi, std::string_view value, uint64_t model_id) const;

  Tables t_;  // the table handles (a copy: plain values)
  IdTable<ModelMetadataRecord> metadata_;
};

}  // namespace hartonomous::storage
