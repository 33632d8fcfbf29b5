#include "server/rpc/common/validation.h"

#include <string>

#include "server/engine/common/paging.h"

namespace hartonomous::rpc {

Status ValidateJsonObject(std::string_view field, std::string_view text, size_t max_bytes,
                          size_t max_depth) {
  return ParseJsonObject(field, text, max_bytes, max_depth).status();
}

Status ValidatePageSize(int32_t page_size) {
  if (page_size < 0) {
    return Status::InvalidArgument("page_size: must be >= 0 (0 = default of " +
                                   std::to_string(engine::kDefaultPageSize) + ")");
  }
  return Status::Ok();
}

Status ValidateAtomId(uint64_t atom_id) {
  if (atom_id == 0) return Status::InvalidArgument("atom_id: required, must be > 0");
  return Status::Ok();
}

Status ValidateConsistencyLimit(int32_t limit) {
  if (limit < 0 || limit > kMaxConsistencyLimit) {
    return Status::InvalidArgument("limit: must be in [0, " + std::to_string(kMaxConsistencyLimit) +
                                   "] (0 = default of 100), got " + std::to_string(limit));
  }
  return Status::Ok();
}

}  // namespace hartonomous::rpc
