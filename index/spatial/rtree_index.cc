#include "index/spatial/rtree_index.h"

#include <algorithm>
#include <boost/iterator/function_output_iterator.hpp>
#include <mutex>

#include "index/spatial/spatial_math.h"

namespace hartonomous::index {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

Status RTreeIndex::Upsert(uint64_t id, const Point3& point) {
  HT_RETURN_IF_ERROR(CheckFinite("point", point));
  WriterLock lock(&mu_);
  auto it = points_.find(id);
  if (it != points_.end()) {
    const Point3& old = it->second;
    tree_.remove(Value(BgPoint(old.x, old.y, old.z), id));
    it->second = point;
  } else {
    points_.emplace(id, point);
  }
  tree_.insert(Value(BgPoint(point.x, point.y, point.z), id));
  return Status::Ok();
}

bool RTreeIndex::Remove(uint64_t id) {
  WriterLock lock(&mu_);
  auto it = points_.find(id);
  if (it == points_.end()) return false;
  tree_.remove(Value(BgPoint(it->second.x, it->second.y, it->second.z), id));
  points_.erase(it);
  return true;
}

template <typename Fn>
Status RTreeIndex::VisitWithinRadius(const Point3& center, double radius, Fn&& fn) const {
  HT_RETURN_IF_ERROR(CheckFinite("center", center));
  HT_RETURN_IF_ERROR(CheckRadius(radius));
  const bg::model::box<BgPoint> bounds(
      BgPoint(center.x - radius, center.y - radius, center.z - radius),
      BgPoint(center.x + radius, center.y + radius, center.z + radius));
  // A point is inside when the distance reported for it, sqrt of the
  // squared distance, is at most radius (so a radius equal to a reported
  // distance includes that point). Squared distances clearly inside or
  // outside radius^2 decide without the square root.
  const double r2 = radius * radius;
  const double inside = r2 * (1 - 1e-9), outside = r2 * (1 + 1e-9);
  ReaderLock lock(&mu_);
  tree_.query(bgi::covered_by(bounds), boost::make_function_output_iterator([&](const Value& v) {
                const Point3 p{bg::get<0>(v.first), bg::get<1>(v.first), bg::get<2>(v.first)};
                const double squared = SquaredDistance(p, center);
                if (squared > outside) return;
                if (squared >= inside && !(std::sqrt(squared) <= radius)) return;
                fn(v.second, p, squared);
              }));
  return Status::Ok();
}

Result<std::vector<SpatialHit>> RTreeIndex::WithinRadius(const Point3& center, double radius,
                                                         size_t limit) const {
  std::vector<SpatialHit> hits;
  HT_RETURN_IF_ERROR(
      VisitWithinRadius(center, radius, [&](uint64_t id, const Point3& p, double squared) {
        hits.push_back(SpatialHit{id, p, std::sqrt(squared)});
      }));
  return SortAndLimit(std::move(hits), limit);
}

Result<std::vector<uint64_t>> RTreeIndex::IdsWithinRadius(const Point3& center,
                                                          double radius) const {
  std::vector<uint64_t> ids;
  HT_RETURN_IF_ERROR(VisitWithinRadius(
      center, radius, [&](uint64_t id, const Point3&, double) { ids.push_back(id); }));
  return ids;
}

Result<std::vector<SpatialHit>> RTreeIndex::WithinBox(const Point3& min, const Point3& max,
                                                      size_t limit) const {
  HT_RETURN_IF_ERROR(CheckBox(min, max));
  const Point3 center = BoxCenter(min, max);
  const bg::model::box<BgPoint> box(BgPoint(min.x, min.y, min.z), BgPoint(max.x, max.y, max.z));
  std::vector<SpatialHit> hits;
  ReaderLock lock(&mu_);
  tree_.query(bgi::covered_by(box), boost::make_function_output_iterator([&](const Value& v) {
                const Point3 p{bg::get<0>(v.first), bg::get<1>(v.first), bg::get<2>(v.first)};
                hits.push_back(SpatialHit{v.second, p, std::sqrt(SquaredDistance(p, center))});
              }));
  lock.Release();
  return SortAndLimit(std::move(hits), limit);
}

Result<std::vector<SpatialHit>> RTreeIndex::Nearest(const Point3& center, size_t k) const {
  HT_RETURN_IF_ERROR(CheckFinite("center", center));
  std::vector<SpatialHit> hits;
  if (k == 0) return hits;
  ReaderLock lock(&mu_);
  tree_.query(bgi::nearest(BgPoint(center.x, center.y, center.z), static_cast<unsigned>(k)),
              boost::make_function_output_iterator([&](const Value& v) {
                const Point3 p{bg::get<0>(v.first), bg::get<1>(v.first), bg::get<2>(v.first)};
                hits.push_back(SpatialHit{v.second, p, std::sqrt(SquaredDistance(p, center))});
              }));
  lock.Release();
  return SortAndLimit(std::move(hits), k);
}

std::optional<Point3> RTreeIndex::Find(uint64_t id) const {
  ReaderLock lock(&mu_);
  auto it = points_.find(id);
  if (it == points_.end()) return std::nullopt;
  return it->second;
}

size_t RTreeIndex::size() const {
  ReaderLock lock(&mu_);
  return points_.size();
}

std::vector<std::pair<uint64_t, Point3>> RTreeIndex::Points() const {
  ReaderLock lock(&mu_);
  std::vector<std::pair<uint64_t, Point3>> out(points_.begin(), points_.end());
  lock.Release();
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Status RTreeIndex::Assign(std::vector<std::pair<uint64_t, Point3>> points) {
  std::vector<Value> values;
  values.reserve(points.size());
  std::unordered_map<uint64_t, Point3> by_id;
  by_id.reserve(points.size());
  for (const auto& [id, p] : points) {
    HT_RETURN_IF_ERROR(CheckFinite("point", p));
    if (!by_id.emplace(id, p).second) {
      return Status::InvalidArgument("points: id " + std::to_string(id) + " appears twice");
    }
    values.emplace_back(BgPoint(p.x, p.y, p.z), id);
  }
  Tree packed(values.begin(), values.end());  // STR packing: a balanced tree in one pass
  WriterLock lock(&mu_);
  tree_ = std::move(packed);
  points_ = std::move(by_id);
  return Status::Ok();
}

}  // namespace hartonomous::index
