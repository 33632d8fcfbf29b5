// PlanStoredFile: a model's "model_files" record as the export's reads --
// an imported file byte for byte, or a quantized copy's source file with
// its quantized layers dequantized in place (model_export_plan.h).
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "server/engine/models/formats/model_layout.h"
#include "server/engine/models/layer_dequantize.h"
#include "server/engine/models/model_export_plan.h"

namespace hartonomous::engine {

std::string LayerWhat(const storage::ModelLayerRecord& layer) {
  return "layer " + std::to_string(layer.layer_idx()) + " ('" + layer.layer_name() + "')";
}

uint64_t StoredBytes(const ExportLayer& layer) {
  uint64_t stored = 0;
  for (const auto& chunk : layer.chunks) stored += chunk.second;
  return stored;
}

Status CheckStoredBytes(const ExportLayer& layer, uint64_t expected) {
  const uint64_t stored = StoredBytes(layer);
  if (stored == expected) return Status::Ok();
  return Status::FailedPrecondition(LayerWhat(layer.layer) +
                                    (layer.chunks.empty() ? " has no stored values"
                                                          : " holds " + std::to_string(stored) +
                                                                " bytes, its shape and dtype " +
                                                                std::to_string(expected)));
}

Result<ExportPlan> PlanStoredFile(uint64_t model_id, const storage::ModelFileRecord& file,
                                  const std::vector<ExportLayer>& layers,
                                  const std::map<uint32_t, DetachedValues>& detached) {
  ExportPlan plan;
  ModelEngine::ExportHeader& header = plan.header;
  header.format = file.format();
  header.file_name = file.file_name();
  header.file_size = file.file_size();
  const bool copy = file.source_model_id() != 0;
  if (!copy) {
    if (file.file_sha256().size() != header.file_sha256.size()) {
      return Status::DataLoss("model_files: record " + std::to_string(model_id) +
                              " has no file SHA-256");
    }
    std::copy(file.file_sha256().begin(), file.file_sha256().end(), header.file_sha256.begin());
    plan.check_sha256 = true;
  }
  for (const auto& ext : file.external_files()) {
    ExportExternal& out = plan.externals.emplace_back();
    out.header.location = ext.location();
    out.header.file_size = ext.file_size();
    if (!copy) {
      if (ext.file_sha256().size() != out.header.file_sha256.size()) {
        return Status::DataLoss("model_files: record " + std::to_string(model_id) +
                                " has no SHA-256 for external file \"" + ext.location() + "\"");
      }
      std::copy(ext.file_sha256().begin(), ext.file_sha256().end(), out.header.file_sha256.begin());
    }
  }
  std::map<uint32_t, size_t> by_idx;
  for (size_t i = 0; i < layers.size(); ++i) by_idx[layers[i].layer.layer_idx()] = i;
  std::vector<bool> in_file(layers.size(), false);
  for (const auto& piece : file.pieces()) {
    if (piece.file() > plan.externals.size()) {
      return Status::DataLoss("model_files: record " + std::to_string(model_id) +
                              " has a piece of external file " + std::to_string(piece.file()) +
                              " of " + std::to_string(plan.externals.size()));
    }
    // The reads of the file the piece belongs to.
    std::vector<ExportRead>& reads =
        piece.file() == 0 ? plan.reads : plan.externals[piece.file() - 1].reads;
    if (piece.kind() != static_cast<uint32_t>(models::SegmentKind::kTensor)) {
      reads.push_back(ExportRead::Atom(piece.atom_id(), piece.length()));
      continue;
    }
    // The piece's bytes as the rows hold them.
    auto verbatim = [&](const std::vector<std::pair<uint64_t, uint64_t>>& chunks) -> Status {
      uint64_t covered = 0;
      for (const auto& [atom, bytes] : chunks) {
        reads.push_back(ExportRead::Atom(atom, bytes));
        covered += bytes;
      }
      if (covered != piece.length()) {
        return Status::DataLoss("tensor_atoms: layer " + std::to_string(piece.layer_idx()) +
                                " of model " + std::to_string(model_id) + " holds " +
                                std::to_string(covered) + " bytes, its file piece " +
                                std::to_string(piece.length()));
      }
      return Status::Ok();
    };
    auto it = by_idx.find(piece.layer_idx());
    if (it == by_idx.end()) {
      // A deleted layer: its detached rows, when they hold the file's bytes.
      auto gone = detached.find(piece.layer_idx());
      if (gone == detached.end()) {
        return Status::DataLoss("model_files: record " + std::to_string(model_id) +
                                " names layer " + std::to_string(piece.layer_idx()) +
                                ", which the model has neither as a layer nor as detached rows");
      }
      if (copy && !piece.dtype().empty() && piece.dtype() != gone->second.dtype) {
        return Status::FailedPrecondition("layer " + std::to_string(piece.layer_idx()) +
                                          " was deleted and its rows hold " + gone->second.dtype +
                                          " values, not the file's " + piece.dtype() +
                                          ": the file cannot be rebuilt without it");
      }
      HT_RETURN_IF_ERROR(verbatim(gone->second.chunks));
      continue;
    }
    const ExportLayer& l = layers[it->second];
    in_file[it->second] = true;
    const std::string what = LayerWhat(l.layer);
    if (!copy || piece.dtype().empty() || piece.dtype() == l.layer.tensor_dtype()) {
      HT_RETURN_IF_ERROR(verbatim(l.chunks));
      continue;
    }
    // A quantized layer: its values dequantized back to the file's dtype.
    const uint64_t size = FloatDtypeBytes(piece.dtype());
    if (size == 0) {
      return Status::FailedPrecondition(what +
                                        ": its values cannot be written back to the file's "
                                        "dtype '" +
                                        piece.dtype() + "' (not a float dtype)");
    }
    if (!HasDequantizableValues(l.layer) || l.chunks.empty()) {
      return Status::FailedPrecondition(what + ": dtype '" + l.layer.tensor_dtype() +
                                        "' has no stored values to dequantize");
    }
    const uint64_t count = l.layer.parameter_count();
    if (count * size != piece.length()) {
      return Status::FailedPrecondition(what + ": " + std::to_string(count) + " values of " +
                                        piece.dtype() + " do not fill its " +
                                        std::to_string(piece.length()) + " bytes in the file");
    }
    for (uint64_t first = 0; first < count; first += kDequantizeRunValues) {
      const uint64_t n = std::min(kDequantizeRunValues, count - first);
      reads.push_back(ExportRead::Values(it->second, first, n, piece.dtype(), n * size));
    }
  }
  if (copy) {
    // A layer quantized here whose values the file does not hold as one
    // range (ONNX values in a varint or unpacked field): the file would
    // keep the original values.
    for (size_t i = 0; i < layers.size(); ++i) {
      const auto parameters =
          nlohmann::json::parse(layers[i].layer.parameters_json(), nullptr, false);
      if (!in_file[i] && parameters.is_object() && parameters.contains("quantized_from")) {
        return Status::FailedPrecondition(LayerWhat(layers[i].layer) +
                                          ": quantized, but its values are not one range of the " +
                                          file.format() + " file to write them back to");
      }
    }
  }
  return plan;
}

}  // namespace hartonomous::engine
