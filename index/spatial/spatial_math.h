// Shared helpers of the spatial index kinds: argument checks, distances,
// and the result order (distance, then id).
//
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "index/spatial/spatial_index.h"

namespace hartonomous::index {

inline double SquaredDistance(const Point3& a, const Point3& b) {
  const double dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z;
  return dx * dx + dy * dy + dz * dz;
}

inline Point3 BoxCenter(const Point3& min, const Point3& max) {
  return Point3{(min.x + max.x) / 2, (min.y + max.y) / 2, (min.z + max.z) / 2};
}

inline Status CheckFinite(const char* field, const Point3& p) {
  if (std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z)) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + ": coordinates must be finite");
}

inline Status CheckRadius(double radius) {
  if (std::isfinite(radius) && radius >= 0) return Status::Ok();
  return Status::InvalidArgument("radius: must be a finite number >= 0");
}

inline Status CheckBox(const Point3& min, const Point3& max) {
  HT_RETURN_IF_ERROR(CheckFinite("box.min", min));
  HT_RETURN_IF_ERROR(CheckFinite("box.max", max));
  if (min.x > max.x || min.y > max.y || min.z > max.z) {
    return Status::InvalidArgument("box: min must be <= max on every axis");
  }
  return Status::Ok();
}

// Orders hits by (distance, id) and keeps the first limit (0 = all).
inline std::vector<SpatialHit> SortAndLimit(std::vector<SpatialHit> hits, size_t limit) {
  auto less = [](const SpatialHit& a, const SpatialHit& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
  };
  if (limit != 0 && hits.size() > limit) {
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(limit), hits.end(),
                      less);
    hits.resize(limit);
  } else {
    std::sort(hits.begin(), hits.end(), less);
  }
  return hits;
}

}  // namespace hartonomous::index
