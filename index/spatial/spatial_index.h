// SpatialIndex: points in 3D identified by a 64-bit id, queried by radius,
// axis-aligned box and k nearest neighbours. Implementations are chosen by
// name through MakeSpatialIndex so a new kind plugs in without touching the
// engine: "rtree" (Boost.Geometry R*-tree) and "scan" (exact linear scan, the
// reference the tests and benchmarks compare against).
//
// Boundaries are inclusive: a point at exactly `radius` from the centre, or
// on a face of the box, is inside. Results are ordered by distance (then id);
// radius and box queries measure distance from the centre / the box centre.
//
// Thread-safety: implementations are thread-safe; queries run in parallel
// with each other and are serialized against writes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hartonomous::index {

struct Point3 {
  double x = 0, y = 0, z = 0;
  bool operator==(const Point3&) const = default;
};

struct SpatialHit {
  uint64_t id = 0;
  Point3 point;
  double distance = 0;  // Euclidean, from the query's centre
  bool operator==(const SpatialHit&) const = default;
};

class SpatialIndex {
 public:
  virtual ~SpatialIndex() = default;

  // Adds or moves id. InvalidArgument for a non-finite coordinate.
  virtual Status Upsert(uint64_t id, const Point3& point) = 0;
  // Removes id; absent ids are ignored. Returns whether it was present.
  virtual bool Remove(uint64_t id) = 0;

  // Points with distance(center) <= radius, nearest first, at most limit
  // (0 = no limit). REQUIRES: radius finite and >= 0 (else InvalidArgument).
  virtual Result<std::vector<SpatialHit>> WithinRadius(const Point3& center, double radius,
                                                       size_t limit) const = 0;
  // The ids of the points WithinRadius(center, radius, 0) returns, in no
  // particular order: for callers that need the set, not the ranking (a
  // hybrid query's candidates), without the cost of sorting it.
  virtual Result<std::vector<uint64_t>> IdsWithinRadius(const Point3& center,
                                                        double radius) const = 0;
  // Points with min <= p <= max on every axis, by distance from the box centre.
  virtual Result<std::vector<SpatialHit>> WithinBox(const Point3& min, const Point3& max,
                                                    size_t limit) const = 0;
  // The k points nearest to center, nearest first.
  virtual Result<std::vector<SpatialHit>> Nearest(const Point3& center, size_t k) const = 0;

  // The point stored for id, if any.
  virtual std::optional<Point3> Find(uint64_t id) const = 0;

  virtual size_t size() const = 0;
  virtual std::string_view kind() const = 0;

  // Every point, in id order (for snapshots).
  virtual std::vector<std::pair<uint64_t, Point3>> Points() const = 0;
  // Replaces the contents (bulk load).
  virtual Status Assign(std::vector<std::pair<uint64_t, Point3>> points) = 0;
};

// "rtree" or "scan"; InvalidArgument naming the kind otherwise.
Result<std::unique_ptr<SpatialIndex>> MakeSpatialIndex(std::string_view kind);
// The kinds MakeSpatialIndex knows.
std::vector<std::string> SpatialIndexKinds();

// Writes the index's points to path atomically (temp file, fsync, rename):
// a crash mid-write leaves the previous snapshot. Records `watermark` (the
// last change the snapshot includes) for catch-up on load.
Status SaveSpatialSnapshot(const SpatialIndex& index, uint64_t watermark, const std::string& path);
// Loads a snapshot into index; returns its watermark. NotFound when there is
// no file, DataLoss when it is truncated or its checksum does not match.
Result<uint64_t> LoadSpatialSnapshot(const std::string& path, SpatialIndex* index);

}  // namespace hartonomous::index
