// ModelEngine::LayerGeometry: a layer's weights as the design document's
// geometry (points X = flat index, Y = value, Z = importance, M = temporal).
#include <cmath>
#include <vector>

#include "server/engine/models/layer_values.h"
#include "server/engine/models/model_engine.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {

Result<ModelEngine::GeometryPage> ModelEngine::LayerGeometry(
    const LayerKey& key, uint64_t first_index, uint64_t max_points, size_t run_points,
    const std::function<Status(const std::vector<GeometryPoint>&)>& visit) {
  HT_ASSIGN_OR_RETURN(storage::ModelLayerRecord layer, GetLayer(key));
  GeometryPage page;
  page.total_points = layer.parameter_count();
  page.first_index = std::min(first_index, page.total_points);
  if (!FloatValueUnit(layer.tensor_dtype())) {
    return Status::FailedPrecondition("layer " + std::to_string(layer.layer_id()) + " ('" +
                                      layer.layer_name() + "'): dtype '" + layer.tensor_dtype() +
                                      "' has no float values to draw");
  }
  std::vector<std::pair<uint64_t, uint64_t>> chunks;
  std::vector<GeometryPoint> run;
  uint64_t next = page.first_index;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_RETURN_IF_ERROR(storage::TensorAtomTable(tables_).ScanLayer(
        txn, layer.model_id(), layer.layer_idx(), storage::TensorKind::kWeights,
        [&](const storage::TensorChunkKey&, storage::TensorAtomRecord&& row) {
          chunks.emplace_back(row.atom_id(), row.byte_length());
          return true;
        }));
    if (chunks.empty() && page.total_points > 0) {
      return Status::FailedPrecondition("layer " + std::to_string(layer.layer_id()) + " ('" +
                                        layer.layer_name() +
                                        "') has no stored values (its model was not imported "
                                        "from a file)");
    }
    // The points of one page are gathered in the read transaction (at most
    // max_points of them), then handed out after it is closed.
    HT_RETURN_IF_ERROR(
        ForEachLayerValue(txn, tables_, layer, chunks, page.first_index, max_points,
                          [&](uint64_t index, float value) {
                            const double y = value;
                            run.push_back({static_cast<double>(index), y, std::fabs(y), 0.0});
                            next = index + 1;
                            return true;
                          })
            .status());
    // Stored per-weight importance (Z) and temporal values (M): float32
    // rows of kinds 1 and 2, read over the same indexes.
    storage::ModelLayerRecord f32 = layer;
    f32.set_tensor_dtype("F32");
    for (auto kind : {storage::TensorKind::kImportance, storage::TensorKind::kTemporal}) {
      std::vector<std::pair<uint64_t, uint64_t>> stored;
      HT_RETURN_IF_ERROR(storage::TensorAtomTable(tables_).ScanLayer(
          txn, layer.model_id(), layer.layer_idx(), kind,
          [&](const storage::TensorChunkKey&, storage::TensorAtomRecord&& row) {
            stored.emplace_back(row.atom_id(), row.byte_length());
            return true;
          }));
      if (stored.empty() || run.empty()) continue;
      const bool z = kind == storage::TensorKind::kImportance;
      HT_RETURN_IF_ERROR(ForEachLayerValue(txn, tables_, f32, stored, page.first_index, run.size(),
                                           [&](uint64_t index, float value) {
                                             GeometryPoint& p = run[index - page.first_index];
                                             (z ? p.z : p.m) = value;
                                             return true;
                                           })
                             .status());
    }
  }
  for (size_t at = 0; at < run.size(); at += run_points) {
    const size_t end = std::min(run.size(), at + run_points);
    HT_RETURN_IF_ERROR(visit(std::vector<GeometryPoint>(run.begin() + static_cast<long>(at),
                                                        run.begin() + static_cast<long>(end))));
  }
  page.next_index = next;
  return page;
}

}  // namespace hartonomous::engine
