// Reads the layout of a GGUF file (versions 2 and 3, little-endian) from a
// prefix of it: magic "GGUF", version, tensor count, metadata KV count,
// the metadata KVs (every value type, arrays nested up to a cap), the
// tensor infos (name, dims, ggml type, offset), then padding to
// general.alignment (default 32, a power of two) and the tensor data.
//
// Refusals are INVALID_ARGUMENT naming the field and the rule: bad magic or
// version, string and array lengths beyond the remaining bytes (or the
// header limit while streaming), unknown value or ggml types, duplicate
// keys or tensor names, general.alignment not a u32 power of two, rank over
// the cap, a dimension of 0, a first dimension that is not a multiple of
// the type's block size, sizes that overflow, offsets not aligned, tensors
// that overlap, alias or leave gaps, data past the end, trailing bytes.
//
// The metadata is exposed KV by KV with its byte range in the file, so a
// caller can tell that two files differ only in one metadata value.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/engine/models/formats/gguf_value.h"
#include "server/engine/models/formats/model_layout.h"

namespace hartonomous::engine::models {

struct GgufOptions {
  // Largest header (everything before the tensor data) accepted.
  // Default: 256 MiB (real vocabularies take tens of MB).
  uint64_t max_header_bytes = uint64_t{256} << 20;
  // Deepest nesting of arrays in a metadata value. Default: 8.
  size_t max_array_depth = 8;
  // Most dims of a tensor (ggml's GGML_MAX_DIMS). Default: 4.
  size_t max_rank = 4;
};

struct GgufKv {
  std::string key;
  GgufValue value;
  uint64_t offset = 0;  // byte range of the whole KV (key, type, value) in the file
  uint64_t length = 0;
};

struct GgufHeader {
  LayoutScan scan;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;      // where the tensor data section starts
  std::vector<GgufKv> metadata;  // in file order
  // Per tensor of scan.layout.tensors: its ggml type id (see ggml_type.h).
  std::vector<uint32_t> ggml_types;
};

// Parses the header in prefix. With file_size the layout is checked
// against it and complete; without, it ends at the last tensor byte and
// the caller closes it with FinishLayout. need_bytes > 0 asks for a longer
// prefix (at least twice the current one, capped by the header limit).
Result<GgufHeader> ScanGguf(std::string_view prefix, std::optional<uint64_t> file_size,
                            const GgufOptions& options = {});

// Bytes of a tensor of ggml type and dims (ne[0] first), or
// INVALID_ARGUMENT naming field.
Result<uint64_t> GgufTensorBytes(std::string_view field, uint32_t ggml_type,
                                 const std::vector<uint64_t>& dims);

}  // namespace hartonomous::engine::models
