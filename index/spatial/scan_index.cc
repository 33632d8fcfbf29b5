#include "index/spatial/scan_index.h"

#include <mutex>

#include "index/spatial/spatial_math.h"

namespace hartonomous::index {

Status ScanIndex::Upsert(uint64_t id, const Point3& point) {
  HT_RETURN_IF_ERROR(CheckFinite("point", point));
  std::unique_lock lock(mu_);
  auto [it, inserted] = slot_.emplace(id, points_.size());
  if (inserted) {
    points_.emplace_back(id, point);
  } else {
    points_[it->second].second = point;
  }
  return Status::Ok();
}

bool ScanIndex::Remove(uint64_t id) {
  std::unique_lock lock(mu_);
  auto it = slot_.find(id);
  if (it == slot_.end()) return false;
  const size_t slot = it->second;
  slot_.erase(it);
  if (slot != points_.size() - 1) {
    points_[slot] = points_.back();
    slot_[points_[slot].first] = slot;
  }
  points_.pop_back();
  return true;
}

Result<std::vector<SpatialHit>> ScanIndex::WithinRadius(const Point3& center, double radius,
                                                        size_t limit) const {
  HT_RETURN_IF_ERROR(CheckFinite("center", center));
  HT_RETURN_IF_ERROR(CheckRadius(radius));
  const double r2 = radius * radius;
  std::vector<SpatialHit> hits;
  std::shared_lock lock(mu_);
  for (const auto& [id, p] : points_) {
    const double d2 = SquaredDistance(p, center);
    if (d2 <= r2) hits.push_back(SpatialHit{id, p, std::sqrt(d2)});
  }
  lock.unlock();
  return SortAndLimit(std::move(hits), limit);
}

Result<std::vector<SpatialHit>> ScanIndex::WithinBox(const Point3& min, const Point3& max,
                                                     size_t limit) const {
  HT_RETURN_IF_ERROR(CheckBox(min, max));
  const Point3 center = BoxCenter(min, max);
  std::vector<SpatialHit> hits;
  std::shared_lock lock(mu_);
  for (const auto& [id, p] : points_) {
    if (p.x >= min.x && p.x <= max.x && p.y >= min.y && p.y <= max.y && p.z >= min.z &&
        p.z <= max.z) {
      hits.push_back(SpatialHit{id, p, std::sqrt(SquaredDistance(p, center))});
    }
  }
  lock.unlock();
  return SortAndLimit(std::move(hits), limit);
}

Result<std::vector<SpatialHit>> ScanIndex::Nearest(const Point3& center, size_t k) const {
  HT_RETURN_IF_ERROR(CheckFinite("center", center));
  std::vector<SpatialHit> hits;
  if (k == 0) return hits;
  std::shared_lock lock(mu_);
  hits.reserve(points_.size());
  for (const auto& [id, p] : points_) {
    hits.push_back(SpatialHit{id, p, std::sqrt(SquaredDistance(p, center))});
  }
  lock.unlock();
  return SortAndLimit(std::move(hits), k);
}

std::optional<Point3> ScanIndex::Find(uint64_t id) const {
  std::shared_lock lock(mu_);
  auto it = slot_.find(id);
  if (it == slot_.end()) return std::nullopt;
  return points_[it->second].second;
}

size_t ScanIndex::size() const {
  std::shared_lock lock(mu_);
  return points_.size();
}

std::vector<std::pair<uint64_t, Point3>> ScanIndex::Points() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<uint64_t, Point3>> out = points_;
  lock.unlock();
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Status ScanIndex::Assign(std::vector<std::pair<uint64_t, Point3>> points) {
  std::unordered_map<uint64_t, size_t> slot;
  slot.reserve(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    HT_RETURN_IF_ERROR(CheckFinite("point", points[i].second));
    if (!slot.emplace(points[i].first, i).second) {
      return Status::InvalidArgument("points: id " + std::to_string(points[i].first) +
                                     " appears twice");
    }
  }
  std::unique_lock lock(mu_);
  points_ = std::move(points);
  slot_ = std::move(slot);
  return Status::Ok();
}

}  // namespace hartonomous::index
