// A strict, bounded JSON parse for file headers: like base/json_limits.h
// (nesting bounded while parsing, no recursion past max_depth) and, in
// addition, duplicate keys in any object are refused instead of the last
// one silently winning. Objects are std::map-backed (keys sorted), so a
// header of many keys costs O(n log n), not the O(n^2) of ordered_json.
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/status.h"

namespace hartonomous::engine::models {

// Parses text as one JSON value. INVALID_ARGUMENT, naming field:
// "<field>: not UTF-8 JSON (<reason>)", "<field>: JSON nested deeper than N
// levels", "<field>: duplicate key \"k\"".
Result<nlohmann::json> ParseStrictJson(std::string_view field, std::string_view text,
                                       size_t max_depth);

}  // namespace hartonomous::engine::models
