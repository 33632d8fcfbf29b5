// A model layer's stored values (its kind-0 "tensor_atoms" chunks) read as
// floats, chunk by chunk, without holding the whole layer: for importance
// (student extraction) and the geometry view.
//
// Float values exist for F32, F16, BF16, F64 under any format's name
// ("F32"/"FLOAT", ...) and for GGUF's Q8_0 / Q4_0 blocks (dequantized);
// other dtypes have none.
//
// Thread-safety: pure functions over the transaction given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"

namespace hartonomous::engine {

// The smallest whole run of a dtype's bytes: its bytes and the values it
// holds (4 and 1 for F32; 34 and 32 for Q8_0). nullopt: no float values.
struct ValueUnit {
  uint64_t bytes = 0;
  uint64_t values = 0;
};
std::optional<ValueUnit> FloatValueUnit(std::string_view dtype);

// Calls visit(index, value) for the layer's values with index in
// [first_index, first_index + count), in order, until visit returns false.
// chunks: the layer's (atom id, byte length) in chunk order. Returns false
// (visiting nothing) when the dtype has no float values. DataLoss for a
// missing atom or values that do not decode.
Result<bool> ForEachLayerValue(storage::Txn& txn, const storage::Tables& tables,
                               const storage::ModelLayerRecord& layer,
                               const std::vector<std::pair<uint64_t, uint64_t>>& chunks,
                               uint64_t first_index, uint64_t count,
                               const std::function<bool(uint64_t index, float value)>& visit);

}  // namespace hartonomous::engine
