// Reads the layout of a safetensors file from a prefix of it: an 8-byte
// little-endian header length N, N bytes of UTF-8 JSON, then the tensor
// data. The JSON maps tensor names to {"dtype", "shape", "data_offsets":
// [begin, end]} (offsets relative to the data start, 8 + N) and may hold
// "__metadata__", a string -> string object.
//
// Every rule of the format is checked before the layout is returned, each
// refusal INVALID_ARGUMENT naming the field and the rule: header length
// over the limit or past the end, JSON that is not UTF-8, nested too deep
// or has duplicate keys, non-string metadata values, an empty tensor name,
// an unknown dtype, negative or non-integer dims, a rank over the cap,
// shape products or byte sizes that overflow, a byte length that is not
// shape x dtype, offsets that overlap, alias, leave gaps, run past the end,
// and trailing bytes. Tensors of zero elements and rank-0 tensors (one
// element) are valid.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "server/engine/models/formats/model_layout.h"

namespace hartonomous::engine::models {

struct SafetensorsOptions {
  // Largest JSON header accepted (the reference implementation's is 100 MB).
  // Default: 100 MiB.
  uint64_t max_header_bytes = uint64_t{100} << 20;
  // Largest rank (number of dims) of a tensor. Default: 32.
  size_t max_rank = 32;
};

struct SafetensorsHeader {
  LayoutScan scan;
  // "__metadata__", in header order; empty when absent.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Parses the header in prefix (the first bytes of the file; the whole file
// is fine too). When file_size is known, the layout is complete and
// checked against it; otherwise the layout ends at the last tensor byte and
// the caller closes it with FinishLayout(&layout, size) once the stream
// ends. need_bytes > 0 when prefix is shorter than the header.
Result<SafetensorsHeader> ScanSafetensors(std::string_view prefix,
                                          std::optional<uint64_t> file_size,
                                          const SafetensorsOptions& options = {});

// Bytes of one tensor of the given dtype name and shape, or INVALID_ARGUMENT
// naming field ("<field>: shape product overflows", "... is not a whole
// number of bytes", "unknown dtype").
Result<uint64_t> SafetensorsByteLength(std::string_view field, std::string_view dtype,
                                       const std::vector<uint64_t>& shape);

}  // namespace hartonomous::engine::models
