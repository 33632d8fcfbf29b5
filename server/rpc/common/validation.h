// The validation rules every service shares: the byte limit and depth of a
// JSON metadata field, the page size of a list and the atom id of a
// request. Each rule names the field and the rule in its message.
// Service-specific rules are in atom/atom_validation.h (atoms, documents,
// relations, policies), search/search_validation.h (collections,
// embeddings, searches) and model/model_validation.h (the model catalog).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/json_limits.h"
#include "base/status.h"

namespace hartonomous::rpc {

// Byte limit of a JSON metadata field (atom, embedding, document and policy
// metadata); each is also bounded in depth by hartonomous::kMaxJsonDepth.
inline constexpr size_t kMaxMetadataBytes = size_t{1} << 20;

// JSON object text (or empty), at most max_bytes and nested at most
// max_depth levels (kMaxJsonDepth unless the field is stored nested); see
// hartonomous::ParseJsonObject for the messages. Every JSON field of a
// request goes through here or through ParseJsonObject.
Status ValidateJsonObject(std::string_view field, std::string_view text, size_t max_bytes,
                          size_t max_depth = kMaxJsonDepth);

// page_size of every list method (AIP-158): 0 = the default, larger than
// the maximum is capped (engine::EffectivePageSize), negative is
// "page_size: must be >= 0 (0 = default of 50)".
Status ValidatePageSize(int32_t page_size);

// CheckConsistencyRequest.limit: 0 = the default of 100, else 1..10000;
// "limit: must be in [0, 10000] (0 = default of 100)" otherwise.
inline constexpr int32_t kMaxConsistencyLimit = 10000;
Status ValidateConsistencyLimit(int32_t limit);

// "atom_id: required, must be > 0".
Status ValidateAtomId(uint64_t atom_id);

}  // namespace hartonomous::rpc
