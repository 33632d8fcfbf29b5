// ScanIndex: SpatialIndex by exact linear scan over a flat array. The
// reference kind: every query examines every point.
//
// Thread-safety: thread-safe (shared_mutex).
#pragma once

#include <shared_mutex>
#include <unordered_map>

#include "base/mutex.h"
#include "index/spatial/spatial_index.h"

namespace hartonomous::index {

class ScanIndex final : public SpatialIndex {
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
  std::string_view kind() const override { return "scan"; }
  std::vector<std::pair<uint64_t, Point3>> Points() const override;
  Status Assign(std::vector<std::pair<uint64_t, Point3>> points) override;

 private:
  mutable SharedMutex mu_;
  std::vector<std::pair<uint64_t, Point3>> points_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, size_t> slot_ GUARDED_BY(mu_);  // id -> index
};

}  // namespace hartonomous::index
