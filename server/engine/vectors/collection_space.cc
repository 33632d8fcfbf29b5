#include "server/engine/vectors/collection_space.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "index/distance.h"
#include "index/spatial/spatial_math.h"

namespace hartonomous::engine {
namespace {

constexpr double kDefaultCell = 0.25;

std::string DoubleBytes(const std::vector<double>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
}

Result<std::vector<double>> DoublesOf(const std::string& bytes, size_t count, const char* field) {
  if (bytes.size() != count * sizeof(double)) {
    return Status::DataLoss(std::string("projections.") + field + ": expected " +
                            std::to_string(count) + " values");
  }
  std::vector<double> v(count);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

}  // namespace

storage::ProjectionRecord CollectionSpace::DefaultRecord(const storage::CollectionRecord& c) {
  auto projection = index::MakeProjection("random", c.dimension(), c.collection_id());
  // The dimension of a stored collection is always valid for a projection.
  return RecordOf(c, **projection, 0, kDefaultCell, 0, c.collection_id());
}

storage::ProjectionRecord CollectionSpace::RecordOf(const storage::CollectionRecord& c,
                                                    const index::Projection& projection,
                                                    uint64_t version, double coarse_cell,
                                                    uint64_t fitted_rows, uint64_t seed) {
  storage::ProjectionRecord r;
  r.set_collection_id(c.collection_id());
  r.set_kind(std::string(projection.kind()));
  r.set_version(version);
  r.set_dimension(c.dimension());
  r.set_axes(DoubleBytes(projection.axes()));
  r.set_mean(DoubleBytes(projection.mean()));
  r.set_scale_x(projection.scale()[0]);
  r.set_scale_y(projection.scale()[1]);
  r.set_scale_z(projection.scale()[2]);
  r.set_coarse_cell(coarse_cell);
  r.set_fitted_rows(fitted_rows);
  r.set_seed(seed);
  return r;
}

Result<std::unique_ptr<CollectionSpace>> CollectionSpace::Make(
    const storage::CollectionRecord& collection, storage::ProjectionRecord record) {
  const size_t dim = collection.dimension();
  if (record.dimension() != dim) {
    return Status::DataLoss("projections: collection " +
                            std::to_string(collection.collection_id()) + " has dimension " +
                            std::to_string(dim) + ", its projection " +
                            std::to_string(record.dimension()));
  }
  if (!(record.coarse_cell() > 0) || !std::isfinite(record.coarse_cell())) {
    return Status::DataLoss("projections.coarse_cell: must be finite and > 0");
  }
  std::unique_ptr<CollectionSpace> space(new CollectionSpace());
  auto projection = index::MakeProjection(record.kind(), dim, record.seed());
  if (!projection.ok())
    return Status::DataLoss("projections.kind: " + projection.status().message());
  HT_ASSIGN_OR_RETURN(auto axes, DoublesOf(record.axes(), 3 * dim, "axes"));
  HT_ASSIGN_OR_RETURN(auto mean, DoublesOf(record.mean(), dim, "mean"));
  HT_RETURN_IF_ERROR((*projection)
                         ->Restore(std::move(axes), std::move(mean),
                                   {record.scale_x(), record.scale_y(), record.scale_z()}));
  space->projection_ = std::move(projection).value();
  space->normalize_ = collection.metric() == "cosine";
  space->record_ = std::move(record);
  const std::string kind = collection.spatial_kind().empty() ? "rtree" : collection.spatial_kind();
  HT_ASSIGN_OR_RETURN(space->fine_, index::MakeSpatialIndex(kind));
  HT_ASSIGN_OR_RETURN(space->coarse_, index::MakeSpatialIndex(kind));
  return space;
}

index::Point3 CollectionSpace::Project(const float* vector) const {
  if (!normalize_) return projection_->Project(vector);
  std::vector<float> unit(vector, vector + projection_->dimension());
  index::Normalize(unit.data(), unit.size());
  return projection_->Project(unit.data());
}

index::Point3 CollectionSpace::Snap(const index::Point3& p) const {
  const double cell = record_.coarse_cell();
  auto snap = [cell](double v) { return (std::floor(v / cell) + 0.5) * cell; };
  return {snap(p.x), snap(p.y), snap(p.z)};
}

Status CollectionSpace::Upsert(uint64_t label, const float* vector) {
  const index::Point3 point = Project(vector);
  HT_RETURN_IF_ERROR(fine_->Upsert(label, point));
  return coarse_->Upsert(label, Snap(point));
}

void CollectionSpace::Remove(uint64_t label) {
  fine_->Remove(label);
  coarse_->Remove(label);
}

Status CollectionSpace::AssignFine(std::vector<std::pair<uint64_t, index::Point3>> points) {
  std::vector<std::pair<uint64_t, index::Point3>> snapped;
  snapped.reserve(points.size());
  for (const auto& [label, p] : points) snapped.emplace_back(label, Snap(p));
  HT_RETURN_IF_ERROR(fine_->Assign(std::move(points)));
  return coarse_->Assign(std::move(snapped));
}

Result<std::vector<uint64_t>> CollectionSpace::IdsWithinRadiusCoarseFirst(
    const index::Point3& center, double radius) const {
  // A point within radius lies in a cell whose centre is within radius plus
  // half the cell's diagonal (with a hair of slack for rounding). Near
  // DBL_MAX that sum overflows: no finite distance exceeds DBL_MAX, so the
  // reach saturates there and every cell qualifies.
  double reach = (radius + coarse_cell() * std::sqrt(3.0) / 2) * (1 + 1e-12) + 1e-300;
  if (!(reach <= std::numeric_limits<double>::max())) reach = std::numeric_limits<double>::max();
  HT_ASSIGN_OR_RETURN(std::vector<uint64_t> cells, coarse_->IdsWithinRadius(center, reach));
  std::vector<uint64_t> out;
  out.reserve(cells.size());
  for (uint64_t id : cells) {
    auto p = fine_->Find(id);
    if (!p) continue;
    // As the fine index measures.
    if (std::sqrt(index::SquaredDistance(*p, center)) <= radius) out.push_back(id);
  }
  return out;
}

}  // namespace hartonomous::engine
