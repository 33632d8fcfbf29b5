// SpatialSearch: the spatial side of the vector collections. Projection
// refits (a new ProjectionRecord in "projections", through CollectionTable,
// and a CollectionSpace of reprojected points swapped in), spatial queries
// (radius, box, k nearest) over a collection's fine or coarse points, the
// nearest points to a vector's projection (spatial deduplication), and the
// points of a stored row.
//
// Thread-safety: thread-safe. Queries read the collection's current space
// (a shared pointer) and run in parallel with writes and refits; one refit
// per collection at a time (Collection::refit_mu), and its swap happens
// under the collection's apply lock, after catching up with the rows
// committed meanwhile.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/thread_annotations.h"
#include "index/spatial/spatial_index.h"
#include "server/engine/vectors/collection_registry.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

struct RefitOptions {
  std::string kind = "pca";    // "pca" or "random"
  size_t sample_size = 10000;  // rows to fit on (every row when fewer)
  double coarse_cell = 0;      // 0 = a quarter of the fitted mean scale
  uint64_t seed = 0;           // 0 = the collection id
};

struct RefitSummary {
  storage::ProjectionRecord projection;
  uint64_t points = 0;       // embeddings with a point after the refit
  uint64_t reprojected = 0;  // points computed by the refit
};

enum class SpatialSpace { kFine, kCoarse };

struct SpatialQueryInput {
  std::string collection;
  SpatialSpace space = SpatialSpace::kFine;
  enum class Shape { kRadius, kBox, kNearest } shape = Shape::kRadius;
  index::Point3 center;    // radius, nearest
  double radius = 0;       // radius
  index::Point3 min, max;  // box
  size_t k = 0;            // nearest
  size_t limit = 0;        // radius, box: 0 = no limit
};

struct SpatialQueryHit {
  uint64_t atom_id = 0;
  uint64_t embedding_id = 0;
  index::Point3 point;
  double distance = 0;
};

struct SpatialQueryResult {
  std::vector<SpatialQueryHit> hits;  // nearest first
  bool truncated = false;             // more matched than limit
};

// The embedding whose projected point is nearest, for spatial matching.
struct PointMatch {
  uint64_t atom_id = 0;
  uint64_t embedding_id = 0;
  double distance = 0;
};

class SpatialSearch {
 public:
  // REQUIRES: env, tables, writer and collections outlive this object.
  SpatialSearch(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
                const CollectionRegistry& collections);
  SpatialSearch(const SpatialSearch&) = delete;
  SpatialSearch& operator=(const SpatialSearch&) = delete;

  // Fits a new projection on a sample of the collection and reprojects every
  // embedding; searches keep running and switch to the new points at once.
  // The new record is committed before the swap: a crash after the commit
  // recomputes the points from it at start. InvalidArgument naming kind,
  // sample_size or coarse_cell; FailedPrecondition when pca has fewer than
  // Projection::kMinPcaSample rows; NotFound when the collection was deleted
  // meanwhile.
  Status Refit(Collection& c, const RefitOptions& options, RefitSummary* summary)
      EXCLUDES(c.refit_mu, c.apply_mu);

  Result<SpatialQueryResult> Query(const SpatialQueryInput& input) const;
  // The embeddings whose fine points are nearest to the projection of vector
  // (in the collection's current projection), nearest first, at most k.
  // InvalidArgument naming vector on a dimension mismatch.
  Result<std::vector<PointMatch>> NearestByProjection(const std::string& collection,
                                                      const std::vector<float>& vector,
                                                      size_t k) const;
  // A stored row's fine and coarse points under its collection's current
  // projection; nullopt when the collection is gone.
  std::optional<std::pair<index::Point3, index::Point3>> PointsOf(
      const storage::EmbeddingRecord& row) const;

 private:
  storage::Env& env_;
  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
  const CollectionRegistry& collections_;
};

}  // namespace hartonomous::engine
