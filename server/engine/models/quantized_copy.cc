#include "server/engine/models/quantized_copy.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/engine/models/formats/model_layout.h"
#include "server/engine/models/layer_values.h"
#include "server/engine/models/model_import.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/import_staging_table.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {
namespace {

using models::QuantType;

// The dtype a quantized layer is stored as.
const char* QuantizedDtype(QuantType type) {
  switch (type) {
    case QuantType::kInt8PerChannel:
      return "I8";
    case QuantType::kQ8_0:
      return "Q8_0";
    case QuantType::kQ4_0:
      return "Q4_0";
    case QuantType::kF16:
      return "F16";
    case QuantType::kBF16:
      return "BF16";
  }
  return "";
}

bool IsBlockType(QuantType type) { return type == QuantType::kQ8_0 || type == QuantType::kQ4_0; }

// Gives model_id a copy of the source's "model_files" record, one more
// reference on each atom piece. Nothing for a source without a file or
// whose file names a deleted layer.
Status CopySourceFile(storage::WriteTxn& txn, const storage::Tables& tables,
                      storage::AtomTable& atoms, uint64_t source_id, uint64_t model_id,
                      const std::vector<SourceLayer>& source_layers, int64_t now_us) {
  const storage::TensorAtomTable tensors(tables);
  HT_ASSIGN_OR_RETURN(auto file, tensors.files().Find(txn, source_id));
  if (!file) return Status::Ok();
  std::map<uint32_t, const storage::ModelLayerRecord*> by_idx;
  for (const SourceLayer& v : source_layers) by_idx[v.layer.layer_idx()] = &v.layer;
  // A file one of whose layers was deleted (its rows detached in the
  // source) is not copied: the copy could not rebuild it, and exports as
  // built from its layers instead.
  for (const auto& piece : file->pieces()) {
    if (piece.kind() == static_cast<uint32_t>(models::SegmentKind::kTensor) &&
        by_idx.count(piece.layer_idx()) == 0) {
      return Status::Ok();
    }
  }
  storage::ModelFileRecord copy = std::move(*file);
  copy.set_source_model_id(source_id);
  for (auto& piece : *copy.mutable_pieces()) {
    if (piece.kind() != static_cast<uint32_t>(models::SegmentKind::kTensor)) {
      HT_RETURN_IF_ERROR(TensorStore::ReferenceOne(txn, atoms, piece.atom_id(), now_us));
      continue;
    }
    // A copy of a copy keeps the file's dtype; an imported file's tensor
    // bytes are in its layer's dtype.
    if (piece.dtype().empty()) piece.set_dtype(by_idx.at(piece.layer_idx())->tensor_dtype());
  }
  return tensors.files().Put(txn, model_id, copy);
}

}  // namespace

QuantizedCopy::~QuantizedCopy() {
  if (!committed_ && import_id_ != 0) (void)store_.Abandon(import_id_);
}

Status QuantizedCopy::Stage() {
  if (pending_.empty()) return Status::Ok();
  for (StagePiece& piece : pending_) piece.hash = Sha256(piece.content);
  HT_ASSIGN_OR_RETURN(std::vector<StagedAtom> staged,
                      store_.Stage(&import_id_, batch_++, pending_));
  for (size_t i = 0; i < staged.size(); ++i) pieces_[pending_index_[i]].atom = staged[i];
  pending_.clear();
  pending_index_.clear();
  pending_bytes_ = 0;
  return Status::Ok();
}

Status QuantizedCopy::Cut(size_t layer, storage::TensorKind kind, std::string_view bytes,
                          const std::string& subtype) {
  uint32_t index = 0;
  for (uint64_t offset = 0; offset < bytes.size(); offset += kDefaultChunkBytes) {
    Pending p;
    p.layer = layer;
    p.kind = kind;
    p.chunk_index = index++;
    p.byte_offset = offset;
    const std::string_view chunk = bytes.substr(offset, kDefaultChunkBytes);
    p.length = chunk.size();
    pending_index_.push_back(pieces_.size());
    pieces_.push_back(p);
    pending_.push_back(StagePiece{std::string(chunk), {}, subtype});
    pending_bytes_ += chunk.size();
    if (pending_bytes_ >= (size_t{8} << 20)) HT_RETURN_IF_ERROR(Stage());
  }
  return Status::Ok();
}

Status QuantizedCopy::Prepare(const std::vector<SourceLayer>& source, const QuantizeSpec& spec,
                              const std::string& source_name) {
  std::set<uint32_t> listed(spec.layers.begin(), spec.layers.end());
  for (uint32_t idx : listed) {
    if (std::none_of(source.begin(), source.end(),
                     [&](const SourceLayer& v) { return v.layer.layer_idx() == idx; })) {
      return Status::NotFound("layers: " + source_name + " has no layer " + std::to_string(idx));
    }
  }
  const bool every = listed.empty();
  for (size_t i = 0; i < source.size(); ++i) {
    const storage::ModelLayerRecord& layer = source[i].layer;
    const std::string field =
        "layers[" + std::to_string(layer.layer_idx()) + "] ('" + layer.layer_name() + "')";
    LayerQuantization q;
    q.layer_idx = layer.layer_idx();
    q.layer_name = layer.layer_name();
    q.dtype_before = q.dtype_after = layer.tensor_dtype();
    for (const auto& chunk : source[i].chunks) q.bytes_before += chunk.second;
    q.bytes_after = q.bytes_before;
    storage::ModelLayerRecord record = layer;
    const bool chosen = every || listed.count(layer.layer_idx()) > 0;
    auto skip = [&](const std::string& why) -> Status {
      if (!every) return Status::InvalidArgument(field + ": " + why);
      q.skipped = why;
      return Status::Ok();
    };
    // Rows: the outermost dimension (GGUF lists it last); columns the rest.
    std::vector<uint64_t> shape(layer.tensor_shape().begin(), layer.tensor_shape().end());
    const auto parameters = nlohmann::json::parse(
        layer.parameters_json().empty() ? "{}" : layer.parameters_json(), nullptr, false);
    if (parameters.is_object() && parameters.value("shape_order", "") == "innermost first") {
      std::reverse(shape.begin(), shape.end());
    }
    const uint64_t count = layer.parameter_count();
    const uint64_t rows = shape.size() >= 2 && shape[0] > 0 ? shape[0] : 1;
    const uint64_t cols = rows == 0 ? 0 : count / rows;
    if (!chosen) {
      // kept as is
    } else if (!FloatValueUnit(layer.tensor_dtype())) {
      HT_RETURN_IF_ERROR(skip("dtype '" + layer.tensor_dtype() + "' has no float values"));
    } else if ((!layer.quantization_type().empty() || layer.tensor_dtype() == "Q8_0" ||
                layer.tensor_dtype() == "Q4_0") &&
               !spec.requantize) {
      HT_RETURN_IF_ERROR(skip(
          "already quantized (" +
          (layer.quantization_type().empty() ? layer.tensor_dtype() : layer.quantization_type()) +
          "); set requantize to quantize it again"));
    } else if (count == 0 || source[i].chunks.empty()) {
      HT_RETURN_IF_ERROR(skip("no stored values"));
    } else if (IsBlockType(spec.type) && cols % models::kQuantBlock != 0) {
      HT_RETURN_IF_ERROR(
          skip("rows of " + std::to_string(cols) + " values are not whole blocks of 32"));
    } else {
      std::vector<float> x;
      x.reserve(count);
      {
        storage::ReadTxn txn(env_);
        HT_RETURN_IF_ERROR(txn.status());
        HT_RETURN_IF_ERROR(ForEachLayerValue(txn, tables_, layer, source[i].chunks, 0, count,
                                             [&](uint64_t, float v) {
                                               x.push_back(v);
                                               return true;
                                             })
                               .status());
      }
      if (x.size() != count) {
        return Status::DataLoss(field + ": " + std::to_string(x.size()) + " values stored, " +
                                std::to_string(count) + " expected");
      }
      models::QuantizeOptions options;
      options.saturate = spec.saturate;
      HT_ASSIGN_OR_RETURN(models::QuantizedTensor quantized,
                          models::Quantize(field, x, rows, cols, spec.type, options));
      const std::vector<float> y = models::Dequantize(quantized);
      HT_RETURN_IF_ERROR(models::CheckErrorBound(field, x, y, quantized));
      q.error = models::MeasureError(x, y);
      q.saturated = quantized.saturated;
      for (float d : quantized.scales)
        q.scale = std::max(q.scale, static_cast<double>(std::fabs(d)));
      q.quantized = true;
      q.dtype_after = QuantizedDtype(spec.type);
      q.bytes_after = quantized.data.size();
      std::string subtype = q.dtype_after;
      std::transform(subtype.begin(), subtype.end(), subtype.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      HT_RETURN_IF_ERROR(Cut(i, storage::TensorKind::kWeights, quantized.data, subtype));
      if (spec.type == QuantType::kInt8PerChannel) {
        std::string scales(quantized.scales.size() * sizeof(float), '\0');
        std::memcpy(scales.data(), quantized.scales.data(), scales.size());
        q.bytes_after += scales.size();
        HT_RETURN_IF_ERROR(Cut(i, storage::TensorKind::kScales, scales, "f32"));
      }
      record.set_tensor_dtype(q.dtype_after);
      record.set_quantization_type(models::QuantTypeName(spec.type));
      record.clear_has_quantization_scale();
      record.clear_quantization_scale();
      record.clear_has_quantization_zero_point();
      record.clear_quantization_zero_point();
      if (q.scale > 0) {
        record.set_has_quantization_scale(true);
        record.set_quantization_scale(q.scale);
        record.set_has_quantization_zero_point(true);
        record.set_quantization_zero_point(spec.type == QuantType::kQ4_0 ? 8 : 0);
      }
      nlohmann::json p = parameters.is_object() ? parameters : nlohmann::json::object();
      p["quantized_from"] = layer.tensor_dtype();
      p["snr_db"] = q.error.snr_db;
      p["rows"] = rows;
      p["cols"] = cols;
      record.set_parameters_json(p.dump());
    }
    layers_.push_back(std::move(q));
    records_.push_back(std::move(record));
  }
  HT_RETURN_IF_ERROR(Stage());
  if (std::none_of(layers_.begin(), layers_.end(),
                   [](const LayerQuantization& l) { return l.quantized; })) {
    std::string why;
    for (const LayerQuantization& l : layers_) {
      if (why.size() > 200) break;
      why += (why.empty() ? "" : "; ") + ("layers[" + std::to_string(l.layer_idx) +
                                          "]: " + (l.skipped.empty() ? "not chosen" : l.skipped));
    }
    return Status::FailedPrecondition("no layer of " + source_name + " can be quantized to " +
                                      models::QuantTypeName(spec.type) + ": " + why);
  }
  return Status::Ok();
}

Result<uint64_t> QuantizedCopy::Insert(storage::WriteTxn& txn, uint64_t source_id,
                                       uint64_t model_id, const std::vector<SourceLayer>& source,
                                       const std::vector<storage::ModelLayerRecord>& written,
                                       int64_t now_us) {
  const storage::TensorAtomTable tensors(tables_);
  storage::AtomTable atoms(tables_);
  uint64_t bytes_shared = 0;
  for (size_t i = 0; i < written.size(); ++i) {
    HT_ASSIGN_OR_RETURN(
        uint64_t shared,
        TensorStore::ShareLayerRows(txn, tables_, atoms, source_id, source[i].layer.layer_idx(),
                                    model_id, written[i].layer_idx(), written[i].layer_id(), now_us,
                                    /*weights=*/!layers_[i].quantized));
    bytes_shared += shared;
  }
  for (const Pending& p : pieces_) {
    storage::TensorAtomRecord row;
    row.set_atom_id(p.atom.atom_id);
    row.set_layer_id(written[p.layer].layer_id());
    row.set_byte_offset(p.byte_offset);
    row.set_byte_length(p.length);
    row.set_dtype(p.kind == storage::TensorKind::kScales ? "F32" : written[p.layer].tensor_dtype());
    row.set_created_at_us(now_us);
    HT_RETURN_IF_ERROR(
        tensors.Put(txn, {model_id, written[p.layer].layer_idx(), p.kind, p.chunk_index}, row));
  }
  HT_RETURN_IF_ERROR(CopySourceFile(txn, tables_, atoms, source_id, model_id, source, now_us));
  HT_RETURN_IF_ERROR(atoms.FlushCounters(txn));
  // The staged references now belong to the rows above.
  HT_RETURN_IF_ERROR(storage::ImportStagingTable(tables_).Remove(txn, import_id_).status());
  return bytes_shared;
}

uint64_t QuantizedCopy::new_bytes_stored() const {
  uint64_t bytes = 0;
  for (const Pending& p : pieces_) {
    if (p.atom.created) bytes += p.length;
  }
  return bytes;
}

}  // namespace hartonomous::engine
