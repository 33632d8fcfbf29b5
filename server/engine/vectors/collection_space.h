// CollectionSpace: the spatial side of one vector collection. It holds the
// collection's projection (the stored ProjectionRecord made live) and two
// spatial indexes keyed by embedding id:
//  - fine: each embedding's projected 3D point (the design document's
//    SpatialGeometry);
//  - coarse: that point snapped to the centre of its cubic grid cell of edge
//    coarse_cell (SpatialCoarse).
// Both are of the collection's spatial kind (CollectionRecord.spatial_kind,
// "rtree" when empty), made by name through index::MakeSpatialIndex.
// Points are derived, never stored per row: Project() is a pure function of
// the vector and the record, so a restart or a refit recomputes them.
//
// For cosine collections the projection applies to the normalised vector
// (the vector the metric compares).
//
// Thread-safety: Project/Snap/queries are safe from many threads. Upsert and
// Remove are serialised by the caller (the per-collection apply lock,
// Collection::apply_mu); a query running during one may see the fine point
// moved before the coarse one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "index/projection/projection.h"
#include "index/spatial/spatial_index.h"
#include "index/vector_index.h"
#include "storage/records.pb.h"

namespace hartonomous::engine {

class CollectionSpace {
 public:
  // The record of a collection that was never fitted: the random projection
  // seeded by its id (its own axes for dimension <= 3), scale 1, cell 0.25.
  static storage::ProjectionRecord DefaultRecord(const storage::CollectionRecord& collection);
  // A record for `projection` at `version` (axes, mean and scale copied).
  static storage::ProjectionRecord RecordOf(const storage::CollectionRecord& collection,
                                            const index::Projection& projection, uint64_t version,
                                            double coarse_cell, uint64_t fitted_rows,
                                            uint64_t seed);
  // DataLoss when the record does not fit the collection.
  static Result<std::unique_ptr<CollectionSpace>> Make(const storage::CollectionRecord& collection,
                                                       storage::ProjectionRecord record);

  const storage::ProjectionRecord& record() const { return record_; }
  uint64_t version() const { return record_.version(); }
  double coarse_cell() const { return record_.coarse_cell(); }

  // REQUIRES: vector has the collection's dimension.
  index::Point3 Project(const float* vector) const;
  index::Point3 Snap(const index::Point3& point) const;

  // Adds or moves the embedding's fine and coarse points.
  Status Upsert(uint64_t label, const float* vector);
  void Remove(uint64_t label);
  bool Contains(uint64_t label) const { return fine_->Find(label).has_value(); }
  // Replaces both indexes from fine points (e.g. a snapshot).
  Status AssignFine(std::vector<std::pair<uint64_t, index::Point3>> points);

  const index::SpatialIndex& fine() const { return *fine_; }
  const index::SpatialIndex& coarse() const { return *coarse_; }
  const index::Projection& projection() const { return *projection_; }

  // Labels whose fine point is within radius of center, found through the
  // coarse grid first (cells within radius + half a cell diagonal), then
  // checked against the fine point: the same set as fine().IdsWithinRadius,
  // in no particular order.
  Result<std::vector<uint64_t>> IdsWithinRadiusCoarseFirst(const index::Point3& center,
                                                           double radius) const;

 private:
  CollectionSpace() = default;

  storage::ProjectionRecord record_;
  bool normalize_ = false;
  std::unique_ptr<index::Projection> projection_;
  std::unique_ptr<index::SpatialIndex> fine_;
  std::unique_ptr<index::SpatialIndex> coarse_;
};

}  // namespace hartonomous::engine
