#include "server/engine/atoms/atom_points.h"

#include "storage/records.pb.h"

namespace hartonomous::engine {

AtomPoints::AtomPoints(storage::Env& env, const storage::Tables& tables)
    : env_(env), atoms_(tables), points_(std::move(index::MakeSpatialIndex("rtree")).value()) {}

Result<uint64_t> AtomPoints::OnRemove(storage::WriteTxn& txn, uint64_t atom_id) {
  txn.OnCommit([this, atom_id] { points_->Remove(atom_id); });
  return uint64_t{0};
}

size_t AtomPoints::size() const { return points_->size(); }

Status AtomPoints::SaveSnapshot(const std::string& path) {
  MutexLock lock(&catch_up_mu_);  // the watermark matches the points
  return index::SaveSpatialSnapshot(*points_, seen_up_to_, path);
}

Status AtomPoints::LoadSnapshot(const std::string& path) {
  auto loaded = index::MakeSpatialIndex("rtree");
  if (!loaded.ok()) return loaded.status();
  HT_ASSIGN_OR_RETURN(uint64_t watermark, index::LoadSpatialSnapshot(path, loaded->get()));
  MutexLock lock(&catch_up_mu_);
  HT_RETURN_IF_ERROR(points_->Assign((*loaded)->Points()));
  seen_up_to_ = watermark;
  return Status::Ok();
}

Status AtomPoints::CatchUp(storage::Txn& txn) {
  MutexLock lock(&catch_up_mu_);
  Status upserted;
  uint64_t seen = seen_up_to_;
  Status scanned =
      atoms_.records().ScanAfter(txn, seen, [&](uint64_t id, storage::AtomRecord&& atom) {
        if (atom.has_spatial_key()) {
          upserted = points_->Upsert(id, {atom.spatial_x(), atom.spatial_y(), atom.spatial_z()});
          if (!upserted.ok()) return false;
        }
        seen = id;
        return true;
      });
  seen_up_to_ = seen;  // what was added stays added, also when the scan failed
  HT_RETURN_IF_ERROR(scanned);
  return upserted;
}

Result<SpatialQueryResult> AtomPoints::Query(const SpatialQueryInput& in) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_RETURN_IF_ERROR(CatchUp(txn));
  const size_t ask = in.limit == 0 ? 0 : in.limit + 1;
  std::vector<index::SpatialHit> hits;
  switch (in.shape) {
    case SpatialQueryInput::Shape::kRadius: {
      HT_ASSIGN_OR_RETURN(hits, points_->WithinRadius(in.center, in.radius, ask));
      break;
    }
    case SpatialQueryInput::Shape::kBox: {
      HT_ASSIGN_OR_RETURN(hits, points_->WithinBox(in.min, in.max, ask));
      break;
    }
    case SpatialQueryInput::Shape::kNearest: {
      HT_ASSIGN_OR_RETURN(hits, points_->Nearest(in.center, in.k));
      break;
    }
  }
  SpatialQueryResult result;
  if (in.shape != SpatialQueryInput::Shape::kNearest && in.limit != 0 && hits.size() > in.limit) {
    hits.resize(in.limit);
    result.truncated = true;
  }
  // The highest atom id this read snapshot holds.
  HT_ASSIGN_OR_RETURN(const uint64_t last_id, atoms_.records().LastId(txn));
  for (const auto& hit : hits) {
    HT_ASSIGN_OR_RETURN(bool exists, atoms_.records().Contains(txn, hit.id));
    if (!exists) {
      // Ids only grow: missing at or below last_id means purged (after the
      // snapshot this point came from was written, or before its commit
      // hook ran); above it, stored after this read began.
      if (hit.id <= last_id) points_->Remove(hit.id);
      continue;
    }
    result.hits.push_back(SpatialQueryHit{hit.id, 0, hit.point, hit.distance});
  }
  return result;
}

}  // namespace hartonomous::engine
