#include "server/engine/models/layer_values.h"

#include <string>

#include "server/engine/models/formats/quantize.h"
#include "storage/tables/atom_table.h"

namespace hartonomous::engine {

std::optional<ValueUnit> FloatValueUnit(std::string_view dtype) {
  if (dtype == "F32" || dtype == "FLOAT") return ValueUnit{4, 1};
  if (dtype == "F16" || dtype == "FLOAT16" || dtype == "BF16" || dtype == "BFLOAT16") {
    return ValueUnit{2, 1};
  }
  if (dtype == "F64" || dtype == "DOUBLE") return ValueUnit{8, 1};
  if (dtype == "Q8_0") return ValueUnit{34, 32};
  if (dtype == "Q4_0") return ValueUnit{18, 32};
  return std::nullopt;
}

Result<bool> ForEachLayerValue(storage::Txn& txn, const storage::Tables& tables,
                               const storage::ModelLayerRecord& layer,
                               const std::vector<std::pair<uint64_t, uint64_t>>& chunks,
                               uint64_t first_index, uint64_t count,
                               const std::function<bool(uint64_t index, float value)>& visit) {
  const std::optional<ValueUnit> unit = FloatValueUnit(layer.tensor_dtype());
  if (!unit) return false;
  const uint64_t end_index = count > UINT64_MAX - first_index ? UINT64_MAX : first_index + count;
  // Byte offset of the first unit holding first_index.
  const uint64_t start_byte = first_index / unit->values * unit->bytes;
  uint64_t index = first_index / unit->values * unit->values;  // of carry's first value
  storage::AtomTable atoms(tables);
  storage::AtomTable::BlockCache cache;
  std::string carry;
  uint64_t offset = 0;  // of the current chunk in the layer's bytes
  for (const auto& [atom_id, length] : chunks) {
    const uint64_t chunk_start = offset;
    offset += length;
    if (offset <= start_byte) continue;
    if (index >= end_index) break;
    HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, atom_id));
    if (!atom) {
      return Status::DataLoss("layer " + std::to_string(layer.layer_id()) + ": atom " +
                              std::to_string(atom_id) + " is missing");
    }
    std::string content;
    HT_RETURN_IF_ERROR(atoms.ReadContent(txn, *atom, &content, &cache));
    std::string_view bytes = content;
    if (chunk_start < start_byte) bytes.remove_prefix(start_byte - chunk_start);
    carry.append(bytes);
    const uint64_t whole = carry.size() / unit->bytes * unit->bytes;
    if (whole == 0) continue;
    auto values = models::ToFloat(layer.layer_name(), layer.tensor_dtype(),
                                  std::string_view(carry).substr(0, whole));
    if (!values.ok()) {
      return Status::DataLoss("layer " + std::to_string(layer.layer_id()) + ": " +
                              values.status().message());
    }
    for (float v : *values) {
      if (index >= end_index) break;
      if (index >= first_index && !visit(index, v)) return true;
      ++index;
    }
    carry.erase(0, whole);
  }
  return true;
}

}  // namespace hartonomous::engine
