// ModelEngine::UpdateLayer and ModelEngine::DeleteLayer: one layer of a
// model changed or deleted.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "server/engine/common/await_result.h"
#include "server/engine/models/model_engine.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {
namespace {

using storage::ModelLayerRecord;

using LayerSetter = void (*)(const ModelLayerRecord& from, ModelLayerRecord* to);

const std::vector<std::pair<std::string, LayerSetter>>& LayerSetters() {
  static const std::vector<std::pair<std::string, LayerSetter>> kSetters = {
      {"layer_name",
       [](const ModelLayerRecord& f, ModelLayerRecord* t) { t->set_layer_name(f.layer_name()); }},
      {"layer_type",
       [](const ModelLayerRecord& f, ModelLayerRecord* t) { t->set_layer_type(f.layer_type()); }},
      {"parameters_json", [](const ModelLayerRecord& f,
                             ModelLayerRecord* t) { t->set_parameters_json(f.parameters_json()); }},
      {"importance",
       [](const ModelLayerRecord& f, ModelLayerRecord* t) {
         t->set_has_importance(f.has_importance());
         t->set_importance(f.has_importance() ? f.importance() : 0);
       }},
  };
  return kSetters;
}

}  // namespace

const std::vector<std::string>& UpdatableLayerPaths() {
  static const std::vector<std::string> kPaths = [] {
    std::vector<std::string> paths;
    for (const auto& [path, setter] : LayerSetters()) paths.push_back(path);
    return paths;
  }();
  return kPaths;
}

Result<ModelLayerRecord> ModelEngine::UpdateLayer(const LayerKey& key, const LayerPatch& patch) {
  return AwaitResult<ModelLayerRecord>(
      [&](LayerDone done) { UpdateLayerAsync(key, patch, std::move(done)); });
}

void ModelEngine::UpdateLayerAsync(LayerKey key, LayerPatch patch, LayerDone done) {
  if (patch.paths.empty()) {
    return done(Status::InvalidArgument("update_mask: required (the layer fields to change)"));
  }
  std::vector<LayerSetter> setters;
  for (const std::string& path : patch.paths) {
    const auto& all = LayerSetters();
    auto it = std::find_if(all.begin(), all.end(), [&](const auto& p) { return p.first == path; });
    if (it == all.end()) {
      return done(
          Status::InvalidArgument("update_mask: '" + path + "' is not an updatable layer field"));
    }
    setters.push_back(it->second);
  }
  WriteThen<ModelLayerRecord>(
      writer_,
      [this, key = std::move(key), patch = std::move(patch), setters = std::move(setters)](
          storage::WriteTxn& txn, ModelLayerRecord& result) -> Status {
        HT_ASSIGN_OR_RETURN(ModelLayerRecord updated, ResolveLayer(txn, key));
        for (LayerSetter set : setters) set(patch.values, &updated);
        HT_RETURN_IF_ERROR(CheckLayer("layer", &updated));
        HT_RETURN_IF_ERROR(table_.PutLayer(txn, updated));
        result = std::move(updated);
        return Status::Ok();
      },
      std::move(done), 0, /*items=*/0);
}

Result<DeletedLayer> ModelEngine::DeleteLayer(const LayerKey& key) {
  return AwaitResult<DeletedLayer>(
      [&](DeleteLayerDone done) { DeleteLayerAsync(key, std::move(done)); });
}

void ModelEngine::DeleteLayerAsync(LayerKey key, DeleteLayerDone done) {
  const int64_t now = NowMicros();
  WriteThen<DeletedLayer>(
      writer_,
      [this, key = std::move(key), now](storage::WriteTxn& txn, DeletedLayer& deleted) -> Status {
        HT_ASSIGN_OR_RETURN(ModelLayerRecord layer, ResolveLayer(txn, key));
        HT_ASSIGN_OR_RETURN(ModelView view, Resolve(txn, ModelKey{layer.model_id(), ""}));
        for (const auto& remover : layer_removers_) {
          HT_ASSIGN_OR_RETURN(uint64_t n, remover(txn, layer));
          deleted.dependent_rows_removed += n;
        }
        // The rows stay, detached (layer_id 0), with their references.
        const storage::TensorAtomTable tensors(tables_);
        std::vector<std::pair<storage::TensorChunkKey, storage::TensorAtomRecord>> rows;
        for (auto kind : {storage::TensorKind::kWeights, storage::TensorKind::kImportance,
                          storage::TensorKind::kTemporal, storage::TensorKind::kScales}) {
          HT_RETURN_IF_ERROR(tensors.ScanLayer(
              txn, layer.model_id(), layer.layer_idx(), kind,
              [&](const storage::TensorChunkKey& k, storage::TensorAtomRecord&& row) {
                rows.emplace_back(k, std::move(row));
                return true;
              }));
        }
        for (auto& [k, row] : rows) {
          row.set_layer_id(0);
          HT_RETURN_IF_ERROR(tensors.Put(txn, k, row));
        }
        deleted.tensor_rows_detached = rows.size();
        HT_RETURN_IF_ERROR(table_.RemoveLayer(txn, layer));
        ModelView updated = view;
        storage::ModelRecord& m = updated.model;
        m.set_layer_count(m.layer_count() > 0 ? m.layer_count() - 1 : 0);
        m.set_parameter_count(m.parameter_count() > layer.parameter_count()
                                  ? m.parameter_count() - layer.parameter_count()
                                  : 0);
        m.set_updated_at_us(now);
        HT_RETURN_IF_ERROR(table_.Update(txn, view.model, m, updated.metadata));
        deleted.layer = std::move(layer);
        return Status::Ok();
      },
      std::move(done), 0, /*items=*/0);
}

}  // namespace hartonomous::engine
