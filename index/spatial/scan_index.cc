#include "index/spatial/scan_index.h"

#include <mutex>

#include "index/spatial/spatial_math.h"

namespace hartonomous::index {

Status ScanIndex::Upsert(uint64_t id, const Point3& point) {
  HT_RETURN_IF_ERROR(CheckFinite("point", point));
  WriterLock lock(&mu_);
  auto [it, inserted] = slot_.emplace(id, points_.size());
  if (inserted) {
    points_.emplace_back(id, point);
  } else {
    points_[it->second].second = point;
  }
  return Status::Ok();
}

bool ScanIndex::Remove(uint64_t id) {
  WriterLock lock(&mu_);
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
  std::vector<SpatialHit> hits;
  ReaderLock lock(&mu_);
  for (const auto& [id, p] : points_) {
    const double d2 = SquaredDistance(p, center);
    const double d = std::sqrt(d2);  // as reported: a reported distance as radius includes it
    if (d <= radius) hits.push_back(SpatialHit{id, p, d});
  }
  lock.Release();
  return SortAndLimit(std::move(hits), limit);
}

Result<std::vector<uint64_t>> ScanIndex::IdsWithinRadius(const Point3& center,
                                                         double radius) const {
  HT_ASSIGN_OR_RETURN(auto hits, WithinRadius(center, radius, 0));
  std::vector<uint64_t> ids;
  ids.reserve(hits.size());
  for (const SpatialHit& hit : hits) ids.push_back(hit.id);
  return ids;
}

Result<std::vector<SpatialHit>> ScanIndex::WithinBox(const Point3& min, const Point3& max,
                                                     size_t limit) const {
  HT_RETURN_IF_ERROR(CheckBox(min, max));
  const Point3 center = BoxCenter(min, max);
  std::vector<SpatialHit> hits;
  ReaderLock lock(&mu_);
  for (const auto& [id, p] : points_) {
    if (p.x >= min.x && p.x <= max.x && p.y >= min.y && p.y <= max.y && p.z >= min.z &&
        p.z <= max.z) {
      hits.push_back(SpatialHit{id, p, std::sqrt(SquaredDistance(p, center))});
    }
  }
  lock.Release();
  return SortAndLimit(std::move(hits), limit);
}

Result<std::vector<SpatialHit>> ScanIndex::Nearest(const Point3& center, size_t k) const {
  HT_RETURN_IF_ERROR(CheckFinite("center", center));
  std::vector<SpatialHit> hits;
  if (k == 0) return hits;
  ReaderLock lock(&mu_);
  hits.reserve(points_.size());
  for (const auto& [id, p] : points_) {
    hits.push_back(SpatialHit{id, p, std::sqrt(SquaredDistance(p, center))});
  }
  lock.Release();
  return SortAndLimit(std::move(hits), k);
}

std::optional<Point3> ScanIndex::Find(uint64_t id) const {
  ReaderLock lock(&mu_);
  auto it = slot_.find(id);
  if (it == slot_.end()) return std::nullopt;
  return points_[it->second].second;
}

size_t ScanIndex::size() const {
  ReaderLock lock(&mu_);
  return points_.size();
}

std::vector<std::pair<uint64_t, Point3>> ScanIndex::Points() const {
  ReaderLock lock(&mu_);
  std::vector<std::pair<uint64_t, Point3>> out = points_;
  lock.Release();
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
  WriterLock lock(&mu_);
  points_ = std::move(points);
  slot_ = std::move(slot);
  return Status::Ok();
}

}  // namespace hartonomous::index
