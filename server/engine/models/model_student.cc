// ModelEngine::ExtractStudent: the design document's student extraction
// (layers ranked by average importance; the student references the
// teacher's tensor atoms).
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "server/engine/models/layer_values.h"
#include "server/engine/models/model_engine.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {
namespace {

// Mean |w| of a layer's values, read chunk by chunk; nullopt when its dtype
// has no float values.
Result<std::optional<double>> MeanAbsolute(
    storage::Txn& txn, const storage::Tables& tables, const storage::ModelLayerRecord& layer,
    const std::vector<std::pair<uint64_t, uint64_t>>& chunks) {
  double sum = 0;
  uint64_t count = 0;
  HT_ASSIGN_OR_RETURN(bool readable, ForEachLayerValue(txn, tables, layer, chunks, 0, UINT64_MAX,
                                                       [&](uint64_t, float v) {
                                                         sum += std::fabs(static_cast<double>(v));
                                                         ++count;
                                                         return true;
                                                       }));
  if (!readable) return std::optional<double>();
  return std::optional<double>(count == 0 ? 0.0 : sum / static_cast<double>(count));
}

}  // namespace

Result<ModelEngine::Student> ModelEngine::ExtractStudent(const ModelKey& teacher,
                                                         double target_ratio,
                                                         const std::string& student_name) {
  if (!(target_ratio > 0 && target_ratio <= 1)) {
    return Status::InvalidArgument("target_ratio: must be in (0, 1], got " +
                                   std::to_string(target_ratio));
  }
  Student student;
  uint64_t teacher_id = 0;
  ModelView teacher_view;
  std::vector<LayerValues> layers;
  {
    // Importance is measured in a read transaction: reading every weight
    // must not hold the writer.
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_ASSIGN_OR_RETURN(teacher_view, Resolve(txn, teacher));
    teacher_id = teacher_view.model.model_id();
    HT_ASSIGN_OR_RETURN(layers, ReadLayerValues(txn, teacher_id));
    if (layers.empty()) {
      return Status::FailedPrecondition("model " + std::to_string(teacher_id) +
                                        " has no layers to extract");
    }
    for (const LayerValues& v : layers) {
      StudentLayer l;
      l.layer_idx = v.layer.layer_idx();
      l.layer_name = v.layer.layer_name();
      // Stored per-weight importance values (kind 1, float32).
      std::vector<std::pair<uint64_t, uint64_t>> weights_importance;
      HT_RETURN_IF_ERROR(storage::TensorAtomTable(tables_).ScanLayer(
          txn, teacher_id, v.layer.layer_idx(), storage::TensorKind::kImportance,
          [&](const storage::TensorChunkKey&, storage::TensorAtomRecord&& row) {
            weights_importance.emplace_back(row.atom_id(), row.byte_length());
            return true;
          }));
      if (v.layer.has_importance()) {
        l.importance = v.layer.importance();
        l.importance_given = true;
        l.importance_source = "layer";
      } else if (!weights_importance.empty()) {
        storage::ModelLayerRecord f32 = v.layer;
        f32.set_tensor_dtype("F32");
        double sum = 0;
        uint64_t count = 0;
        HT_RETURN_IF_ERROR(ForEachLayerValue(txn, tables_, f32, weights_importance, 0, UINT64_MAX,
                                             [&](uint64_t, float x) {
                                               sum += x;
                                               ++count;
                                               return true;
                                             })
                               .status());
        l.importance = count == 0 ? 0.0 : sum / static_cast<double>(count);
        l.importance_source = "weights";
      } else {
        HT_ASSIGN_OR_RETURN(std::optional<double> mean,
                            MeanAbsolute(txn, tables_, v.layer, v.chunks));
        l.importance_known = mean.has_value();
        l.importance = mean.value_or(0);
        if (mean) l.importance_source = "magnitude";
      }
      student.layers.push_back(std::move(l));
    }
  }
  // Rank: known importance first, highest first; ties in layer order.
  std::vector<size_t> rank(student.layers.size());
  for (size_t i = 0; i < rank.size(); ++i) rank[i] = i;
  std::stable_sort(rank.begin(), rank.end(), [&](size_t a, size_t b) {
    const StudentLayer& x = student.layers[a];
    const StudentLayer& y = student.layers[b];
    if (x.importance_known != y.importance_known) return x.importance_known;
    return x.importance > y.importance;
  });
  const auto keep = static_cast<size_t>(
      std::max<double>(1, std::ceil(target_ratio * static_cast<double>(rank.size()) - 1e-9)));
  for (size_t i = 0; i < keep && i < rank.size(); ++i) student.layers[rank[i]].kept = true;

  ModelView view = teacher_view;
  view.model.set_model_name(student_name);
  view.model.set_parameter_count(0);
  std::vector<storage::ModelLayerRecord> records;
  std::vector<size_t> from;  // index in layers of each student layer
  for (size_t i = 0; i < layers.size(); ++i) {
    StudentLayer& l = student.layers[i];
    if (!l.kept) continue;
    l.student_layer_idx = static_cast<uint32_t>(records.size());
    storage::ModelLayerRecord r = layers[i].layer;
    r.set_layer_idx(l.student_layer_idx);
    r.set_has_importance(true);
    r.set_importance(l.importance);
    nlohmann::json parameters = nlohmann::json::parse(
        r.parameters_json().empty() ? "{}" : r.parameters_json(), nullptr, false);
    if (!parameters.is_object()) parameters = nlohmann::json::object();
    parameters["teacher_model_id"] = teacher_id;
    parameters["teacher_layer_idx"] = layers[i].layer.layer_idx();
    r.set_parameters_json(parameters.dump());
    for (const auto& chunk : layers[i].chunks) student.bytes_shared += chunk.second;
    records.push_back(std::move(r));
    from.push_back(i);
  }
  student.layers_kept = static_cast<uint32_t>(records.size());
  const int64_t now = NowMicros();
  HT_ASSIGN_OR_RETURN(size_t bytes, PrepareNewModel(&view, &records, now));
  const storage::TensorAtomTable tensors(tables_);
  HT_RETURN_IF_ERROR(writer_.Write(
      [&](storage::WriteTxn& txn) -> Status {
        HT_ASSIGN_OR_RETURN(ModelView current, Resolve(txn, ModelKey{teacher_id, ""}));
        (void)current;
        student.model = view;
        std::vector<storage::ModelLayerRecord> written = records;
        HT_RETURN_IF_ERROR(InsertNewModel(txn, table_, &student.model, &written));
        storage::AtomTable atoms(tables_);
        for (size_t j = 0; j < written.size(); ++j) {
          HT_RETURN_IF_ERROR(TensorStore::ShareLayerRows(
                                 txn, tables_, atoms, teacher_id, layers[from[j]].layer.layer_idx(),
                                 student.model.model.model_id(), written[j].layer_idx(),
                                 written[j].layer_id(), now, /*weights=*/true)
                                 .status());
        }
        return atoms.FlushCounters(txn);
      },
      bytes, /*items=*/0));
  return student;
}

}  // namespace hartonomous::engine
