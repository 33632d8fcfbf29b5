// ModelEngine::ExportModel: chooses the plan (model_export_plan.h) for the
// format asked and streams its reads, batch by batch.
#include <algorithm>
#include <future>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/engine/models/formats/model_layout.h"
#include "server/engine/models/layer_dequantize.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/model_export_plan.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {
namespace {

// Bytes read per read transaction: the transaction is closed before they
// are handed to the sink, so a slow client never holds one open.
constexpr uint64_t kReadBatchBytes = uint64_t{4} << 20;

}  // namespace

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

Status ModelEngine::ExportModel(
    const ModelKey& key, const std::function<Status(const ExportHeader&)>& begin,
    const std::function<Status(std::string_view)>& sink, std::string_view format,
    const std::function<Status(const ExportExternalHeader&)>& external_begin) {
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
  if (!plan.externals.empty() && !external_begin) {
    return Status::FailedPrecondition(
        "model export: the model's ONNX file has external data files, which this caller "
        "cannot receive");
  }
  const ExportHeader& header = plan.header;
  HT_RETURN_IF_ERROR(begin(header));
  storage::AtomTable atoms(tables_);
  // Streams one file's reads; its size and (check_sha256) SHA-256 are
  // checked at its end.
  auto stream_file = [&](std::vector<ExportRead>& reads, uint64_t file_size,
                         const Sha256Digest& file_sha256) -> Status {
    // Reads reads[from..) up to about kReadBatchBytes into *batch, in one
    // read transaction; returns where the next batch starts.
    auto read_batch = [&](size_t from, std::vector<std::string>* batch) -> Result<size_t> {
      batch->clear();
      uint64_t batch_bytes = 0;
      storage::ReadTxn txn(env_);
      HT_RETURN_IF_ERROR(txn.status());
      storage::AtomTable::BlockCache cache;
      size_t next = from;
      while (next < reads.size() && (batch->empty() || batch_bytes < kReadBatchBytes)) {
        ExportRead& read = reads[next++];
        if (read.layer >= 0) {
          const ExportLayer& l = layers[static_cast<size_t>(read.layer)];
          HT_ASSIGN_OR_RETURN(std::string bytes,
                              DequantizedBytes(txn, tables_, l.layer, l.chunks, l.scales,
                                               read.first, read.count, read.dtype));
          batch_bytes += bytes.size();
          batch->push_back(std::move(bytes));
          continue;
        }
        if (read.atom_id == 0) {
          batch_bytes += read.literal.size();
          batch->push_back(std::move(read.literal));
          continue;
        }
        HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, read.atom_id));
        if (!atom || atom->content_size() != read.length) {
          return Status::DataLoss("model export: atom " + std::to_string(read.atom_id) +
                                  (atom ? " has another size than its piece" : " is missing"));
        }
        std::string content;
        HT_RETURN_IF_ERROR(atoms.ReadContent(txn, *atom, &content, &cache));
        batch_bytes += content.size();
        batch->push_back(std::move(content));
      }
      return next;
    };
    // The file's SHA-256 (the check below), fed batch by batch in order: a
    // batch is hashed by the thread that read it, right after reading it.
    Sha256Stream hash;
    auto read_and_hash = [&](size_t from, std::vector<std::string>* batch) -> Result<size_t> {
      HT_ASSIGN_OR_RETURN(size_t next, read_batch(from, batch));
      for (const std::string& bytes : *batch) hash.Update(bytes);
      return next;
    };
    // The next batch is read, decoded and hashed on another thread while
    // this one sends the current one (one batch ahead: the batches reach
    // the hash in order).
    uint64_t sent = 0;
    std::vector<std::string> current, upcoming;
    HT_ASSIGN_OR_RETURN(size_t next, read_and_hash(0, &current));
    while (!current.empty()) {
      std::future<Result<size_t>> ahead;
      if (next < reads.size()) {
        ahead = std::async(std::launch::async, read_and_hash, next, &upcoming);
      }
      Status sending = Status::Ok();
      for (const std::string& bytes : current) {
        sent += bytes.size();
        sending = sink(bytes);
        if (!sending.ok()) break;
      }
      if (ahead.valid()) {
        Result<size_t> read = ahead.get();  // joined before anything returns
        HT_RETURN_IF_ERROR(sending);
        HT_RETURN_IF_ERROR(read.status());
        next = *read;
        current.swap(upcoming);
      } else {
        HT_RETURN_IF_ERROR(sending);
        current.clear();
      }
    }
    const Sha256Digest digest = hash.Finish();
    if (sent != file_size || (plan.check_sha256 && digest != file_sha256)) {
      return Status::DataLoss("model export: the rebuilt file (" + std::to_string(sent) +
                              " bytes) does not match the planned size or the imported file's "
                              "SHA-256");
    }
    return Status::Ok();
  };
  HT_RETURN_IF_ERROR(stream_file(plan.reads, header.file_size, header.file_sha256));
  for (ExportExternal& ext : plan.externals) {
    HT_RETURN_IF_ERROR(external_begin(ext.header));
    HT_RETURN_IF_ERROR(stream_file(ext.reads, ext.header.file_size, ext.header.file_sha256));
  }
  return Status::Ok();
}

}  // namespace hartonomous::engine
