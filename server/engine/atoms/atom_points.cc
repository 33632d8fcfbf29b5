#include "server/engine/atoms/atom_points.h"

#include "storage/key_codec.h"
#include "storage/records.pb.h"

namespace hartonomous::engine {

AtomPoints::AtomPoints(storage::Env& env, const storage::Tables& tables)
    : env_(env), tables_(tables), points_(std::move(index::MakeSpatialIndex("rtree")).value()) {}

Result<uint64_t> AtomPoints::OnRemove(storage::WriteTxn& txn, uint64_t atom_id) {
  txn.OnCommit([this, atom_id] { points_->Remove(atom_id); });
  return uint64_t{0};
}

size_t AtomPoints::size() const { return points_->size(); }

Status AtomPoints::SaveSnapshot(const std::string& path) {
  std::lock_guard lock(catch_up_mu_);  // the watermark matches the points
  return index::SaveSpatialSnapshot(*points_, seen_up_to_, path);
}

Status AtomPoints::LoadSnapshot(const std::string& path) {
  auto loaded = index::MakeSpatialIndex("rtree");
  if (!loaded.ok()) return loaded.status();
  HT_ASSIGN_OR_RETURN(uint64_t watermark, index::LoadSpatialSnapshot(path, loaded->get()));
  std::lock_guard lock(catch_up_mu_);
  HT_RETURN_IF_ERROR(points_->Assign((*loaded)->Points()));
  seen_up_to_ = watermark;
  return Status::Ok();
}

Status AtomPoints::CatchUp(storage::Txn& txn) {
  std::lock_guard lock(catch_up_mu_);
  auto cursor = txn.OpenCursor(tables_.atoms);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(storage::Be64Key(seen_up_to_ + 1)));
  while (valid) {
    const uint64_t id = storage::ReadBe64(cursor->key());
    storage::AtomRecord atom;
    const auto value = cursor->value();
    if (!atom.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return Status::DataLoss("atoms: corrupt record " + std::to_string(id));
    }
    if (atom.has_spatial_key()) {
      HT_RETURN_IF_ERROR(
          points_->Upsert(id, {atom.spatial_x(), atom.spatial_y(), atom.spatial_z()}));
    }
    seen_up_to_ = id;
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
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
  uint64_t last_id = 0;  // the highest atom id this read snapshot holds
  {
    auto cursor = txn.OpenCursor(tables_.atoms);
    HT_ASSIGN_OR_RETURN(bool any, cursor->Last());
    if (any) last_id = storage::ReadBe64(cursor->key());
  }
  for (const auto& hit : hits) {
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool exists, txn.Get(tables_.atoms, storage::Be64Key(hit.id), &value));
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
