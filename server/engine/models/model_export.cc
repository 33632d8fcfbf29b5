// ModelEngine::OpenExport chooses the plan (model_export_plan.h) for the
// format asked; ModelEngine::ExportModel streams it batch by batch
// (model_export_stream.h), reading the next batch while the sink takes the
// current one.
#include <algorithm>
#include <future>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/engine/models/formats/model_layout.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/model_export_plan.h"
#include "server/engine/models/model_export_stream.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {

Result<std::vector<ModelEngine::LayerValues>> ModelEngine::ReadLayerValues(
    storage::Txn& txn, uint64_t model_id) const {
  std::vector<LayerValues> out;
  std::map<uint32_t, size_t> at;
  HT_RETURN_IF_ERROR(table_.ScanLayers(txn, model_id, 0, [&](storage::ModelLayerRecord&& layer) {
    at[layer.layer_idx()] = out.size();
    out.push_back({std::move(layer), {}, {}});
    return true;
  }));
  HT_RETURN_IF_ERROR(storage::TensorAtomTable(tables_).ScanModel(
      txn, model_id, [&](const storage::TensorChunkKey& key, storage::TensorAtomRecord&& row) {
        auto it = at.find(key.layer_idx);
        if (it == at.end()) return true;
        if (key.kind == storage::TensorKind::kWeights) {
          out[it->second].chunks.emplace_back(row.atom_id(), row.byte_length());
        } else if (key.kind == storage::TensorKind::kScales) {
          out[it->second].scales.emplace_back(row.atom_id(), row.byte_length());
        }
        return true;
      }));
  return out;
}

Result<std::unique_ptr<ModelExportStream>> ModelEngine::OpenExport(const ModelKey& key,
                                                                   std::string_view format,
                                                                   bool external_files) {
  if (!format.empty() && format != "safetensors" && format != "gguf" && format != "onnx") {
    return Status::InvalidArgument(
        "format: must be empty (as stored), \"safetensors\", "
        "\"gguf\" or \"onnx\", got \"" +
        std::string(format) + "\"");
  }
  const storage::TensorAtomTable tensors(tables_);
  ExportPlan plan;
  std::vector<ExportLayer> layers;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_ASSIGN_OR_RETURN(ModelView view, Resolve(txn, key));
    const uint64_t model_id = view.model.model_id();
    HT_ASSIGN_OR_RETURN(auto file, tensors.files().Find(txn, model_id));
    HT_ASSIGN_OR_RETURN(std::vector<LayerValues> values, ReadLayerValues(txn, model_id));
    for (LayerValues& v : values) {
      layers.push_back({std::move(v.layer), std::move(v.chunks), std::move(v.scales)});
    }
    // The stored file: asked by its format, or as stored for an import (a
    // quantized copy's "as stored" is its own layers, built).
    const bool imported = file && file->source_model_id() == 0;
    if (file && (format == file->format() || (format.empty() && imported))) {
      // Deleted layers' rows stay with the model, detached: the file keeps
      // their bytes.
      std::set<uint32_t> present;
      for (const ExportLayer& l : layers) present.insert(l.layer.layer_idx());
      std::map<uint32_t, DetachedValues> detached;
      for (const auto& piece : file->pieces()) {
        if (piece.kind() != static_cast<uint32_t>(models::SegmentKind::kTensor) ||
            present.count(piece.layer_idx()) != 0) {
          continue;
        }
        DetachedValues& values = detached[piece.layer_idx()];
        HT_RETURN_IF_ERROR(
            tensors.ScanLayer(txn, model_id, piece.layer_idx(), storage::TensorKind::kWeights,
                              [&](const storage::TensorChunkKey&, storage::TensorAtomRecord&& row) {
                                values.chunks.emplace_back(row.atom_id(), row.byte_length());
                                values.dtype = row.dtype();
                                return true;
                              }));
      }
      HT_ASSIGN_OR_RETURN(plan, PlanStoredFile(model_id, *file, layers, detached));
    } else if (format.empty() || format == "safetensors") {
      HT_ASSIGN_OR_RETURN(plan, PlanBuiltSafetensors(view, layers));
    } else if (format == "gguf") {
      HT_ASSIGN_OR_RETURN(plan, PlanBuiltGguf(view, layers));
    } else {
      return Status::FailedPrecondition("format: model " + std::to_string(model_id) +
                                        " has no ONNX file to export (" +
                                        (file ? "its file is " + file->format()
                                              : std::string("it was not imported from a file")) +
                                        "; ONNX files are not built from layers)");
    }
  }
  if (!plan.externals.empty() && !external_files) {
    return Status::FailedPrecondition(
        "model export: the model's ONNX file has external data files, which this caller "
        "cannot receive");
  }
  return std::make_unique<ModelExportStream>(env_, tables_, std::move(plan), std::move(layers));
}

Status ModelEngine::ExportModel(
    const ModelKey& key, const std::function<Status(const ExportHeader&)>& begin,
    const std::function<Status(std::string_view)>& sink, std::string_view format,
    const std::function<Status(const ExportExternalHeader&)>& external_begin) {
  HT_ASSIGN_OR_RETURN(std::unique_ptr<ModelExportStream> stream,
                      OpenExport(key, format, static_cast<bool>(external_begin)));
  HT_RETURN_IF_ERROR(begin(stream->header()));
  // The next batch is read, decoded and hashed on another thread while this
  // one hands the current one to the sink (one batch ahead).
  HT_ASSIGN_OR_RETURN(ModelExportStream::Batch current, stream->Next());
  while (true) {
    std::future<Result<ModelExportStream::Batch>> ahead;
    if (!current.last) {
      ahead = std::async(std::launch::async, [&stream] { return stream->Next(); });
    }
    Status sending = Status::Ok();
    if (current.external) sending = external_begin(*current.external);
    for (const std::string& bytes : current.pieces) {
      if (!sending.ok()) break;
      sending = sink(bytes);
    }
    if (!ahead.valid()) return sending;
    Result<ModelExportStream::Batch> read = ahead.get();  // joined before anything returns
    HT_RETURN_IF_ERROR(sending);
    HT_RETURN_IF_ERROR(read.status());
    current = std::move(*read);
  }
}

}  // namespace hartonomous::engine
