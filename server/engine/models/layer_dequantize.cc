#include "server/engine/models/layer_dequantize.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "server/engine/models/formats/half_float.h"
#include "server/engine/models/layer_values.h"
#include "storage/tables/atom_table.h"

namespace hartonomous::engine {
namespace {

bool IsInt8PerRow(const storage::ModelLayerRecord& layer) {
  return layer.tensor_dtype() == "I8" && layer.quantization_type() == "int8";
}

// Bytes [offset, offset + length) of the values the chunks hold in order.
Result<std::string> ReadRange(storage::Txn& txn, const storage::Tables& tables,
                              const storage::ModelLayerRecord& layer,
                              const std::vector<std::pair<uint64_t, uint64_t>>& chunks,
                              uint64_t offset, uint64_t length) {
  storage::AtomTable atoms(tables);
  storage::AtomTable::BlockCache cache;
  std::string out;
  uint64_t at = 0;  // of the current chunk
  for (const auto& [atom_id, bytes] : chunks) {
    const uint64_t start = at;
    at += bytes;
    if (at <= offset) continue;
    if (start >= offset + length) break;
    HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, atom_id));
    std::string content;
    if (atom) HT_RETURN_IF_ERROR(atoms.ReadContent(txn, *atom, &content, &cache));
    if (!atom || content.size() != bytes) {
      return Status::DataLoss("layer " + std::to_string(layer.layer_id()) + ": atom " +
                              std::to_string(atom_id) +
                              (atom ? " has another size" : " is missing"));
    }
    const uint64_t from = offset > start ? offset - start : 0;
    const uint64_t to = std::min<uint64_t>(bytes, offset + length - start);
    out.append(content, from, to - from);
  }
  if (out.size() != length) {
    return Status::DataLoss("layer " + std::to_string(layer.layer_id()) + ": holds fewer bytes (" +
                            std::to_string(at) + ") than its values need");
  }
  return out;
}

void Encode(float v, std::string_view dtype, char* out) {
  if (dtype == "F32" || dtype == "FLOAT") {
    std::memcpy(out, &v, 4);
  } else if (dtype == "F16" || dtype == "FLOAT16") {
    const uint16_t h = models::FloatToHalf(v);
    std::memcpy(out, &h, 2);
  } else if (dtype == "BF16" || dtype == "BFLOAT16") {
    const uint16_t b = models::FloatToBfloat16(v);
    std::memcpy(out, &b, 2);
  } else {
    const double d = v;
    std::memcpy(out, &d, 8);
  }
}

}  // namespace

uint64_t FloatDtypeBytes(std::string_view dtype) {
  if (dtype == "F32" || dtype == "FLOAT") return 4;
  if (dtype == "F16" || dtype == "FLOAT16" || dtype == "BF16" || dtype == "BFLOAT16") return 2;
  if (dtype == "F64" || dtype == "DOUBLE") return 8;
  return 0;
}

bool HasDequantizableValues(const storage::ModelLayerRecord& layer) {
  return IsInt8PerRow(layer) || FloatValueUnit(layer.tensor_dtype()).has_value();
}

Result<std::string> DequantizedBytes(storage::Txn& txn, const storage::Tables& tables,
                                     const storage::ModelLayerRecord& layer,
                                     const std::vector<std::pair<uint64_t, uint64_t>>& chunks,
                                     const std::vector<std::pair<uint64_t, uint64_t>>& scales,
                                     uint64_t first, uint64_t count, std::string_view dtype) {
  const uint64_t size = FloatDtypeBytes(dtype);
  std::string out(count * size, '\0');
  const std::string what = "layer " + std::to_string(layer.layer_id());
  if (IsInt8PerRow(layer)) {
    const auto parameters = nlohmann::json::parse(layer.parameters_json(), nullptr, false);
    const uint64_t cols = parameters.is_object() && parameters.contains("cols") &&
                                  parameters["cols"].is_number_unsigned()
                              ? parameters["cols"].get<uint64_t>()
                              : 0;
    if (cols == 0) return Status::DataLoss(what + ": int8 values without their row length");
    if (count == 0) return out;
    HT_ASSIGN_OR_RETURN(std::string q, ReadRange(txn, tables, layer, chunks, first, count));
    const uint64_t row0 = first / cols, row1 = (first + count - 1) / cols;
    HT_ASSIGN_OR_RETURN(std::string s,
                        ReadRange(txn, tables, layer, scales, row0 * 4, (row1 - row0 + 1) * 4));
    for (uint64_t i = 0; i < count; ++i) {
      float scale;
      std::memcpy(&scale, s.data() + ((first + i) / cols - row0) * 4, 4);
      // As models::Dequantize computes it.
      Encode(static_cast<float>(static_cast<int8_t>(q[i])) * scale, dtype, out.data() + i * size);
    }
    return out;
  }
  uint64_t seen = 0;
  HT_ASSIGN_OR_RETURN(
      bool has_values,
      ForEachLayerValue(txn, tables, layer, chunks, first, count, [&](uint64_t index, float v) {
        Encode(v, dtype, out.data() + (index - first) * size);
        ++seen;
        return true;
      }));
  if (!has_values) {
    return Status::FailedPrecondition(what + ": dtype '" + layer.tensor_dtype() +
                                      "' has no float values");
  }
  if (seen != count) {
    return Status::DataLoss(what + ": " + std::to_string(seen) + " values stored from index " +
                            std::to_string(first) + ", " + std::to_string(count) + " expected");
  }
  return out;
}

}  // namespace hartonomous::engine
