// The JSON header of a safetensors file, read in one pass of SAX events
// straight into its entries: no JSON document is built, so memory is the
// entries themselves (about the size of the header text) and the time is
// linear in the header. The JSON must be UTF-8 and nest at most 3 levels
// (root object -> tensor object -> array); duplicate keys are refused at
// every level, unknown fields of a tensor are skipped.
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace hartonomous::engine::models {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  uint64_t begin = 0;  // data_offsets, relative to the data start
  uint64_t end = 0;
};

struct SafetensorsHeaderJson {
  std::vector<SafetensorsEntry> entries;                      // in header order
  std::vector<std::pair<std::string, std::string>> metadata;  // in header order
};

// Parses the header text. INVALID_ARGUMENT naming the field: "header: not
// UTF-8 JSON (...)", "header: duplicate key \"k\"", "header: must be a JSON
// object", "header: empty tensor name", "header: tensor \"t\".shape[0]:
// negative value -1", "header: __metadata__[\"k\"]: must be a string",
// "... rank N over the cap of M", and missing or mistyped dtype, shape or
// data_offsets.
Result<SafetensorsHeaderJson> ParseSafetensorsHeaderJson(std::string_view text, size_t max_rank);

}  // namespace hartonomous::engine::models
