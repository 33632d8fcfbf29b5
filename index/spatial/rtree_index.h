// RTreeIndex: SpatialIndex over a Boost.Geometry R*-tree of 3D points.
// Bulk loads use the packing constructor; single changes insert/remove.
//
// Thread-safety: thread-safe (shared_mutex: parallel queries, exclusive writes).
#pragma once

#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <shared_mutex>
#include <unordered_map>

#include "base/mutex.h"
#include "index/spatial/spatial_index.h"

namespace hartonomous::index {

class RTreeIndex final : public SpatialIndex {
 public:
  Status Upsert(uint64_t id, const Point3& point) override;
  bool Remove(uint64_t id) override;
  Result<std::vector<SpatialHit>> WithinRadius(const Point3& center, double radius,
                                               size_t limit) const override;
  Result<std::vector<uint64_t>> IdsWithinRadius(const Point3& center, double radius) const override;
  Result<std::vector<SpatialHit>> WithinBox(const Point3& min, const Point3& max,
                                            size_t limit) const override;
  Result<std::vector<SpatialHit>> Nearest(const Point3& center, size_t k) const override;
  std::optional<Point3> Find(uint64_t id) const override;
  size_t size() const override;
  std::string_view kind() const override { return "rtree"; }
  std::vector<std::pair<uint64_t, Point3>> Points() const override;
  Status Assign(std::vector<std::pair<uint64_t, Point3>> points) override;

 private:
  using BgPoint = boost::geometry::model::point<double, 3, boost::geometry::cs::cartesian>;
  using Value = std::pair<BgPoint, uint64_t>;
  using Tree = boost::geometry::index::rtree<Value, boost::geometry::index::rstar<16>>;

  // Calls fn(id, point, squared distance) for each point within radius of
  // center, under the reader lock; checks the arguments first.
  template <typename Fn>
  Status VisitWithinRadius(const Point3& center, double radius, Fn&& fn) const;

  mutable SharedMutex mu_;
  Tree tree_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, Point3> points_ GUARDED_BY(mu_);
};

}  // namespace hartonomous::index
