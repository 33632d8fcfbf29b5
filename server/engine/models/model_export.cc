// ModelEngine::ExportModel: an imported model's file, rebuilt from its
// pieces (storage/tables/tensor_atom_table.h, "model_files").
#include <algorithm>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "server/engine/models/formats/model_layout.h"
#include "server/engine/models/formats/safetensors_reader.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "server/engine/models/model_engine.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {
namespace {

// Bytes read per read transaction: the transaction is closed before they
// are handed to the sink, so a slow client never holds one open.
constexpr uint64_t kReadBatchBytes = uint64_t{4} << 20;

struct PieceRead {
  uint64_t atom_id = 0;  // 0: `literal` instead of an atom
  uint64_t length = 0;
  std::string literal;
};

// The safetensors name of a layer's dtype (safetensors names pass; ONNX's
// and GGUF's names of the same types are translated), or "".
std::string SafetensorsDtypeOf(const std::string& dtype) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"FLOAT", "F32"}, {"FLOAT16", "F16"}, {"BFLOAT16", "BF16"}, {"DOUBLE", "F64"},
      {"INT8", "I8"},   {"UINT8", "U8"},    {"INT16", "I16"},     {"UINT16", "U16"},
      {"INT32", "I32"}, {"UINT32", "U32"},  {"INT64", "I64"},     {"UINT64", "U64"},
      {"BOOL", "BOOL"}, {"I8", "I8"},       {"I16", "I16"},       {"I32", "I32"},
      {"I64", "I64"},   {"F32", "F32"},     {"F16", "F16"},       {"BF16", "BF16"},
      {"F64", "F64"}};
  for (const auto& [from, to] : kNames) {
    if (dtype == from) return to;
  }
  // Any other safetensors dtype name is itself.
  return models::SafetensorsByteLength("", dtype, {}).ok() ? dtype : "";
}

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

Status ModelEngine::ExportModel(const ModelKey& key,
                                const std::function<Status(const ExportHeader&)>& begin,
                                const std::function<Status(std::string_view)>& sink) {
  const storage::TensorAtomTable tensors(tables_);
  std::vector<PieceRead> reads;
  ExportHeader header;
  bool built = false;  // a safetensors file built from the layers
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_ASSIGN_OR_RETURN(ModelView view, Resolve(txn, key));
    const uint64_t model_id = view.model.model_id();
    HT_ASSIGN_OR_RETURN(auto file, tensors.files().Find(txn, model_id));
    if (!file) {
      // Built from its layers as safetensors.
      HT_ASSIGN_OR_RETURN(std::vector<LayerValues> layers, ReadLayerValues(txn, model_id));
      // One tensor per layer (Q8_0 / Q4_0 blocks as flat U8 bytes; an int8
      // layer adds "<name>.scale", its F32 row scales); `values[k]` lists
      // the chunks of tensor k.
      std::vector<models::SafetensorsTensorSpec> specs;
      std::vector<const std::vector<std::pair<uint64_t, uint64_t>>*> values;
      for (const LayerValues& v : layers) {
        const storage::ModelLayerRecord& l = v.layer;
        const std::string what =
            "layer " + std::to_string(l.layer_idx()) + " ('" + l.layer_name() + "')";
        uint64_t stored = 0;
        for (const auto& chunk : v.chunks) stored += chunk.second;
        std::vector<uint64_t> shape(l.tensor_shape().begin(), l.tensor_shape().end());
        const auto parameters = nlohmann::json::parse(l.parameters_json(), nullptr, false);
        if (parameters.is_object() && parameters.value("shape_order", "") == "innermost first") {
          std::reverse(shape.begin(), shape.end());
        }
        std::string dtype = SafetensorsDtypeOf(l.tensor_dtype());
        if (l.tensor_dtype() == "Q8_0" || l.tensor_dtype() == "Q4_0") {
          dtype = "U8";
          shape = {stored};
        }
        if (dtype.empty()) {
          return Status::FailedPrecondition(what + ": dtype '" + l.tensor_dtype() +
                                            "' cannot be written to safetensors");
        }
        HT_ASSIGN_OR_RETURN(uint64_t expected, models::SafetensorsByteLength(what, dtype, shape));
        if (stored != expected) {
          return Status::FailedPrecondition(what + (v.chunks.empty()
                                                        ? " has no stored values"
                                                        : " holds " + std::to_string(stored) +
                                                              " bytes, its shape and dtype " +
                                                              std::to_string(expected)));
        }
        specs.push_back({l.layer_name(), dtype, shape});
        values.push_back(&v.chunks);
        if (!v.scales.empty()) {
          uint64_t scale_bytes = 0;
          for (const auto& chunk : v.scales) scale_bytes += chunk.second;
          specs.push_back({l.layer_name() + ".scale", "F32", {scale_bytes / 4}});
          values.push_back(&v.scales);
        }
      }
      HT_ASSIGN_OR_RETURN(
          models::SafetensorsPlan plan,
          models::PlanSafetensors(specs, {{"hartonomous_model", view.model.model_name()}}));
      header.format = "safetensors";
      header.file_name = view.model.model_name() + ".safetensors";
      header.file_size = plan.file_size;
      built = true;
      reads.push_back({0, plan.header.size(), std::move(plan.header)});
      for (size_t i : plan.order) {
        for (const auto& chunk : *values[i]) reads.push_back({chunk.first, chunk.second, {}});
      }
    } else {
      header.format = file->format();
      header.file_name = file->file_name();
      header.file_size = file->file_size();
      if (file->file_sha256().size() != header.file_sha256.size()) {
        return Status::DataLoss("model_files: record " + std::to_string(model_id) +
                                " has no file SHA-256");
      }
      std::copy(file->file_sha256().begin(), file->file_sha256().end(), header.file_sha256.begin());
      for (const auto& piece : file->pieces()) {
        if (piece.kind() != static_cast<uint32_t>(models::SegmentKind::kTensor)) {
          reads.push_back({piece.atom_id(), piece.length(), {}});
          continue;
        }
        uint64_t covered = 0;
        HT_RETURN_IF_ERROR(
            tensors.ScanLayer(txn, model_id, piece.layer_idx(), storage::TensorKind::kWeights,
                              [&](const storage::TensorChunkKey&, storage::TensorAtomRecord&& row) {
                                reads.push_back({row.atom_id(), row.byte_length(), {}});
                                covered += row.byte_length();
                                return true;
                              }));
        if (covered != piece.length()) {
          return Status::DataLoss("tensor_atoms: layer " + std::to_string(piece.layer_idx()) +
                                  " of model " + std::to_string(model_id) + " holds " +
                                  std::to_string(covered) + " bytes, its file piece " +
                                  std::to_string(piece.length()));
        }
      }
    }
  }
  HT_RETURN_IF_ERROR(begin(header));
  // Reads reads[from..) up to about kReadBatchBytes into *batch, in one
  // read transaction; returns where the next batch starts.
  storage::AtomTable atoms(tables_);
  auto read_batch = [&](size_t from, std::vector<std::string>* batch) -> Result<size_t> {
    batch->clear();
    uint64_t batch_bytes = 0;
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    storage::AtomTable::BlockCache cache;
    size_t next = from;
    while (next < reads.size() && (batch->empty() || batch_bytes < kReadBatchBytes)) {
      PieceRead& read = reads[next++];
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
  // The next batch is read (and decoded) on another thread while this one
  // hashes and sends the current one.
  Sha256Stream hash;
  uint64_t sent = 0;
  std::vector<std::string> current, upcoming;
  HT_ASSIGN_OR_RETURN(size_t next, read_batch(0, &current));
  while (!current.empty()) {
    std::future<Result<size_t>> ahead;
    if (next < reads.size()) {
      ahead = std::async(std::launch::async, read_batch, next, &upcoming);
    }
    Status sending = Status::Ok();
    for (const std::string& bytes : current) {
      hash.Update(bytes);
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
  if (sent != header.file_size || (!built && digest != header.file_sha256)) {
    return Status::DataLoss("model export: the rebuilt file (" + std::to_string(sent) +
                            " bytes) does not match the imported file's size and SHA-256");
  }
  return Status::Ok();
}

}  // namespace hartonomous::engine
