#include "storage/tables/model_table.h"

#include <utility>

#include "storage/key_codec.h"
#include "storage/sequence.h"
#include "storage/tables/record_codec.h"

namespace hartonomous::storage {
namespace {

constexpr size_t kLayerKeyBytes = 12;  // be64(model_id) be32(layer_idx)

std::string LayerPrefix(uint64_t model_id) { return Be64Key(model_id); }

}  // namespace

ModelTable::ModelTable(const Tables& t)
    : NamedTable<ModelRecord>(
          {t.models, "models", t.model_names, "model_names", t.sequences, "model_id", "model",
           "model.model_name"},
          {&ModelRecord::model_id, &ModelRecord::set_model_id, &ModelRecord::model_name}),
      t_(t),
      metadata_(t.model_metadata, "model_metadata") {}

std::string ModelTable::IndexKey(std::string_view value, uint64_t model_id) {
  std::string key(value);
  key.push_back('\0');
  AppendBe64(&key, model_id);
  return key;
}

std::string ModelTable::LayerKey(uint64_t model_id, uint32_t layer_idx) {
  std::string key = LayerPrefix(model_id);
  AppendBe32(&key, layer_idx);
  return key;
}

Status ModelTable::PutIndex(WriteTxn& txn, MDB_dbi dbi, std::string_view value,
                            uint64_t model_id) const {
  if (value.empty()) return Status::Ok();
  return txn.Put(dbi, IndexKey(value, model_id), "");
}

Status ModelTable::DelIndex(WriteTxn& txn, MDB_dbi dbi, std::string_view value,
                            uint64_t model_id) const {
  if (value.empty()) return Status::Ok();
  return txn.Del(dbi, IndexKey(value, model_id)).status();
}

Result<uint64_t> ModelTable::Insert(WriteTxn& txn, ModelRecord* record,
                                    ModelMetadataRecord metadata) const {
  HT_ASSIGN_OR_RETURN(uint64_t id, NamedTable<ModelRecord>::Insert(txn, record));
  HT_RETURN_IF_ERROR(PutIndex(txn, t_.models_by_type, record->model_type(), id));
  HT_RETURN_IF_ERROR(PutIndex(txn, t_.models_by_architecture, record->architecture(), id));
  metadata.set_model_id(id);
  HT_RETURN_IF_ERROR(metadata_.Put(txn, id, metadata));
  return id;
}

Status ModelTable::Update(WriteTxn& txn, const ModelRecord& old, const ModelRecord& record,
                          const ModelMetadataRecord& metadata) const {
  const uint64_t id = record.model_id();
  HT_RETURN_IF_ERROR(NamedTable<ModelRecord>::Update(txn, old.model_name(), record));
  if (old.model_type() != record.model_type()) {
    HT_RETURN_IF_ERROR(DelIndex(txn, t_.models_by_type, old.model_type(), id));
    HT_RETURN_IF_ERROR(PutIndex(txn, t_.models_by_type, record.model_type(), id));
  }
  if (old.architecture() != record.architecture()) {
    HT_RETURN_IF_ERROR(DelIndex(txn, t_.models_by_architecture, old.architecture(), id));
    HT_RETURN_IF_ERROR(PutIndex(txn, t_.models_by_architecture, record.architecture(), id));
  }
  ModelMetadataRecord stored = metadata;
  stored.set_model_id(id);
  return metadata_.Put(txn, id, stored);
}

Result<uint64_t> ModelTable::Remove(WriteTxn& txn, const ModelRecord& record) const {
  const uint64_t id = record.model_id();
  // The layers' id index entries first: they are found through the layers.
  uint64_t layers = 0;
  Status status;
  HT_RETURN_IF_ERROR(ScanLayers(txn, id, 0, [&](ModelLayerRecord&& layer) {
    status = txn.Del(t_.model_layer_ids, Be64Key(layer.layer_id())).status();
    ++layers;
    return status.ok();
  }));
  HT_RETURN_IF_ERROR(status);
  HT_ASSIGN_OR_RETURN(uint64_t deleted, txn.DelPrefix(t_.model_layers, LayerPrefix(id)));
  if (deleted != layers) {
    return Status::Internal("model_layers: deleted " + std::to_string(deleted) + " rows of model " +
                            std::to_string(id) + ", expected " + std::to_string(layers));
  }
  HT_RETURN_IF_ERROR(metadata_.Remove(txn, id).status());
  HT_RETURN_IF_ERROR(DelIndex(txn, t_.models_by_type, record.model_type(), id));
  HT_RETURN_IF_ERROR(DelIndex(txn, t_.models_by_architecture, record.architecture(), id));
  HT_RETURN_IF_ERROR(NamedTable<ModelRecord>::Remove(txn, record));
  return layers;
}

Result<ModelMetadataRecord> ModelTable::GetMetadata(Txn& txn, uint64_t model_id) const {
  HT_ASSIGN_OR_RETURN(std::optional<ModelMetadataRecord> found, metadata_.Find(txn, model_id));
  if (found) return std::move(*found);
  ModelMetadataRecord empty;
  empty.set_model_id(model_id);
  return empty;
}

Status ModelTable::ScanModels(
    Txn& txn, ModelIndex index, std::string_view value, std::string_view after,
    const std::function<bool(std::string_view position, uint64_t model_id)>& visit) const {
  MDB_dbi dbi = t_.models;
  std::string prefix;
  const char* name = "models";
  switch (index) {
    case ModelIndex::kId:
      break;
    case ModelIndex::kName:
      dbi = t_.model_names;
      name = "model_names";
      prefix = std::string(value);
      break;
    case ModelIndex::kType:
      dbi = t_.models_by_type;
      name = "models_by_type";
      prefix = std::string(value) + '\0';
      break;
    case ModelIndex::kArchitecture:
      dbi = t_.models_by_architecture;
      name = "models_by_architecture";
      prefix = std::string(value) + '\0';
      break;
  }
  // Positions are the key after the prefix; the scan resumes at the first
  // key above prefix + after.
  auto cursor = txn.OpenCursor(dbi);
  const std::string start = prefix + std::string(after);
  bool valid = false;
  if (start.empty()) {  // LMDB refuses an empty key: start at the first one
    HT_ASSIGN_OR_RETURN(valid, cursor->First());
  } else {
    HT_ASSIGN_OR_RETURN(valid, cursor->Seek(start));
  }
  if (valid && !after.empty() && cursor->key() == start) {
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  while (valid) {
    const std::string_view key = cursor->key();
    if (key.substr(0, prefix.size()) != prefix) break;
    const std::string_view position = key.substr(prefix.size());
    uint64_t id = 0;
    if (index == ModelIndex::kName) {
      if (cursor->value().size() != sizeof(uint64_t)) {
        return Status::DataLoss(std::string(name) + ": entry '" + std::string(key) +
                                "' is corrupt");
      }
      id = ReadBe64(cursor->value());
    } else {
      if (position.size() != sizeof(uint64_t)) {
        return Status::DataLoss(std::string(name) + ": a key under '" + std::string(value) +
                                "' is corrupt");
      }
      id = ReadBe64(position);
    }
    if (!visit(position, id)) return Status::Ok();
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Result<uint64_t> ModelTable::InsertLayer(WriteTxn& txn, ModelLayerRecord* layer) const {
  const std::string key = LayerKey(layer->model_id(), layer->layer_idx());
  std::string_view existing;
  HT_ASSIGN_OR_RETURN(bool taken, txn.Get(t_.model_layers, key, &existing));
  if (taken) {
    return Status::AlreadyExists("layer_idx: model " + std::to_string(layer->model_id()) +
                                 " already has layer " + std::to_string(layer->layer_idx()));
  }
  Sequence ids(txn, t_.sequences, "layer_id");
  HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
  HT_RETURN_IF_ERROR(ids.Flush());
  layer->set_layer_id(id);
  HT_RETURN_IF_ERROR(txn.Put(t_.model_layers, key, layer->SerializeAsString()));
  HT_RETURN_IF_ERROR(txn.Put(t_.model_layer_ids, Be64Key(id), key));
  return id;
}

Result<std::optional<ModelLayerRecord>> ModelTable::FindLayer(Txn& txn, uint64_t model_id,
                                                              uint32_t layer_idx) const {
  std::string_view value;
  const std::string key = LayerKey(model_id, layer_idx);
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.model_layers, key, &value));
  if (!found) return std::optional<ModelLayerRecord>();
  HT_ASSIGN_OR_RETURN(
      ModelLayerRecord layer,
      ParseRecord<ModelLayerRecord>(value, "model_layers",
                                    std::to_string(model_id) + "/" + std::to_string(layer_idx)));
  return std::optional<ModelLayerRecord>(std::move(layer));
}

Result<std::optional<ModelLayerRecord>> ModelTable::FindLayerById(Txn& txn,
                                                                  uint64_t layer_id) const {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.model_layer_ids, Be64Key(layer_id), &value));
  if (!found) return std::optional<ModelLayerRecord>();
  if (value.size() != kLayerKeyBytes) {
    return Status::DataLoss("model_layer_ids: entry " + std::to_string(layer_id) + " is corrupt");
  }
  const uint64_t model_id = ReadBe64(value.substr(0, 8));
  const uint32_t layer_idx = ReadBe32(value.substr(8));
  HT_ASSIGN_OR_RETURN(std::optional<ModelLayerRecord> layer, FindLayer(txn, model_id, layer_idx));
  if (!layer || layer->layer_id() != layer_id) {
    return Status::DataLoss("model_layer_ids: layer " + std::to_string(layer_id) +
                            " has no row in model_layers");
  }
  return layer;
}

Status ModelTable::ScanLayers(Txn& txn, uint64_t model_id, uint64_t first_idx,
                              const std::function<bool(ModelLayerRecord&& layer)>& visit) const {
  if (first_idx > UINT32_MAX) return Status::Ok();
  const std::string prefix = LayerPrefix(model_id);
  auto cursor = txn.OpenCursor(t_.model_layers);
  HT_ASSIGN_OR_RETURN(bool valid,
                      cursor->Seek(LayerKey(model_id, static_cast<uint32_t>(first_idx))));
  while (valid) {
    const std::string_view key = cursor->key();
    if (key.substr(0, prefix.size()) != prefix) break;
    if (key.size() != kLayerKeyBytes) {
      return Status::DataLoss("model_layers: a key of model " + std::to_string(model_id) +
                              " is corrupt");
    }
    HT_ASSIGN_OR_RETURN(ModelLayerRecord layer,
                        ParseRecord<ModelLayerRecord>(cursor->value(), "model_layers",
                                                      std::to_string(model_id) + "/" +
                                                          std::to_string(ReadBe32(key.substr(8)))));
    if (!visit(std::move(layer))) return Status::Ok();
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Status ModelTable::PutLayer(WriteTxn& txn, const ModelLayerRecord& layer) const {
  return txn.Put(t_.model_layers, LayerKey(layer.model_id(), layer.layer_idx()),
                 layer.SerializeAsString());
}

Status ModelTable::RemoveLayer(WriteTxn& txn, const ModelLayerRecord& layer) const {
  HT_RETURN_IF_ERROR(txn.Del(t_.model_layer_ids, Be64Key(layer.layer_id())).status());
  return txn.Del(t_.model_layers, LayerKey(layer.model_id(), layer.layer_idx())).status();
}

}  // namespace hartonomous::storage
