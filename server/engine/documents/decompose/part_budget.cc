#include "server/engine/documents/decompose/part_budget.h"

#include <string>

namespace hartonomous::engine {

Status PartBudget::Take(uint64_t parts) {
  used_ += parts;
  if (used_ <= limit_) return Status::Ok();
  return Status::InvalidArgument(
      "content: the document decomposes into more than " + std::to_string(limit_) +
      " parts (at most " + std::to_string(kFreeParts) + " plus one per " +
      std::to_string(kMinBytesPerPart) +
      " bytes); choose larger patches or frames, or ingest it with format 'binary'");
}

}  // namespace hartonomous::engine
