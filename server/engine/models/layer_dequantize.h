// A run of a layer's stored values dequantized and written in a float
// dtype: how a quantized model's layers are written back into its source
// file (model_export_file.cc). Layers with values: float dtypes (F32, F16,
// BF16, F64 under any format's name), Q8_0 / Q4_0 blocks, and int8 per row
// (dtype I8, quantization_type "int8", float32 row scales stored as
// kind-3 chunks; its row length is parameters_json's "cols").
//
// Thread-safety: pure functions over the transaction given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"

namespace hartonomous::engine {

// Bytes per value of a float dtype a file can hold (4 for "F32" and
// "FLOAT", 2 for F16 / BF16, 8 for F64), or 0 for any other dtype.
uint64_t FloatDtypeBytes(std::string_view dtype);

// Whether the layer's stored values can be read as floats.
bool HasDequantizableValues(const storage::ModelLayerRecord& layer);

// The values [first, first + count) of the layer as floats, encoded as
// dtype (REQUIRES: FloatDtypeBytes(dtype) > 0): count x its bytes.
// DataLoss naming the layer for missing atoms, values that do not decode
// or fewer values than asked; FailedPrecondition for a layer without
// dequantizable values.
Result<std::string> DequantizedBytes(storage::Txn& txn, const storage::Tables& tables,
                                     const storage::ModelLayerRecord& layer,
                                     const std::vector<std::pair<uint64_t, uint64_t>>& chunks,
                                     const std::vector<std::pair<uint64_t, uint64_t>>& scales,
                                     uint64_t first, uint64_t count, std::string_view dtype);

}  // namespace hartonomous::engine
