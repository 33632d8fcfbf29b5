#include "server/engine/atom_points.h"

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
      HT_RETURN_IF_ERROR(points_->Upsert(id, {atom.spatial_x(), atom.spatial_y(), atom.spatial_z()}));
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
  for (const auto& hit : hits) {
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool exists, txn.Get(tables_.atoms, storage::Be64Key(hit.id), &value));
    if (!exists) continue;  // removed by a commit whose hook has not run yet
    result.hits.push_back(SpatialQueryHit{hit.id, 0, hit.point, hit.distance});
  }
  return result;
}

}  // namespace hartonomous::engine
