// PartBudget: how many parts one document may decompose into.
//
// Every part of a document costs the ingest a fixed amount of bookkeeping
// whatever its size: the part and node structs, a SHA-256, an atom record
// with its hash and reference-count index entries, and a `contains` edge
// stored forward and reverse (several hundred bytes in all). Sixteen MiB of
// ". " is eight million one-sentence parts; 1 x 1 pixel patches are one part
// per pixel. Bounding the part count by the bytes a document brings keeps
// that bookkeeping, and with it an ingest's peak memory, a fixed multiple of
// the document's size (docs/api.md states the multiple).
//
// A document of B bytes may have at most kFreeParts + B / kMinBytesPerPart
// parts (leaves and composites). B is the content received; for PNG and JPEG
// it also counts the decoded raster, which the patches are cut from.
// Decomposers call Take before they build the parts they count, so a
// refused document is refused before its parts exist.
//
// Thread-safety: a value; not for concurrent use.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace hartonomous::engine {

class PartBudget {
 public:
  static constexpr uint64_t kFreeParts = 4096;
  static constexpr uint64_t kMinBytesPerPart = 16;

  explicit PartBudget(uint64_t bytes) : limit_(kFreeParts + bytes / kMinBytesPerPart) {}

  // Counts `parts` more parts. InvalidArgument naming `content`, the count
  // reached and the limit once the total passes the limit.
  Status Take(uint64_t parts);

  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_; }

 private:
  uint64_t limit_;
  uint64_t used_ = 0;
};

}  // namespace hartonomous::engine
