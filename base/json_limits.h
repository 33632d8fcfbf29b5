// The one bounded JSON parser of the server: every JSON text the server
// accepts from a client or reads back from storage is parsed here, so no
// DOM is ever built from text nested deeper than kMaxJsonDepth. nlohmann's
// dump(), copy and comparison recurse once per level; bounding the depth
// at parse time is what keeps them off the end of the stack.
//
// The depth is checked while parsing, before the nested value is built:
// a text nested 100,000 levels deep is refused after reading kMaxJsonDepth
// + 1 opening brackets, in O(kMaxJsonDepth) memory and without recursion.
// Brackets inside strings do not count. Sizes are each field's own rule:
// ParseJsonObject takes the field's byte limit.
//
// Thread-safety: free functions, safe from any thread.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/status.h"

namespace hartonomous {

// Deepest nesting of objects and arrays accepted: the outermost object or
// array is level 1; a scalar alone is level 0.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses text as one JSON value (RFC 8259, no comments, nothing after it).
// On failure, InvalidArgument "<field>: JSON nested deeper than 64 levels"
// or "<field>: must be valid JSON text (<parser's reason>)".
Result<nlohmann::json> ParseJson(std::string_view field, std::string_view text,
                                 size_t max_depth = kMaxJsonDepth);
// The same, keeping the order of object keys (for text the server rewrites).
Result<nlohmann::ordered_json> ParseOrderedJson(std::string_view field, std::string_view text,
                                                size_t max_depth = kMaxJsonDepth);

// A JSON object field of a request: empty text (= {}) or the text of a JSON
// object, at most max_bytes long and nested at most max_depth levels. The
// messages name the field and the rule: "<field>: longer than N bytes",
// "<field>: JSON nested deeper than 64 levels", "<field>: must be valid JSON
// text (...)", "<field>: must be a JSON object, got array".
Result<nlohmann::json> ParseJsonObject(std::string_view field, std::string_view text,
                                       size_t max_bytes, size_t max_depth = kMaxJsonDepth);

}  // namespace hartonomous
