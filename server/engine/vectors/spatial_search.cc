#include "server/engine/vectors/spatial_search.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <memory>
#include <random>

#include "base/clock.h"
#include "base/mutex.h"
#include "index/distance.h"
#include "server/engine/vectors/reconcile.h"
#include "storage/tables/collection_table.h"
#include "storage/tables/embedding_table.h"

namespace hartonomous::engine {

using storage::EmbeddingRecord;
using storage::EmbeddingTable;

namespace {

constexpr size_t kMaxFitSample = 1000000;

}  // namespace

SpatialSearch::SpatialSearch(storage::Env& env, const storage::Tables& tables,
                             storage::WriteBatcher& writer, const CollectionRegistry& collections)
    : env_(env), tables_(tables), writer_(writer), collections_(collections) {}

Status SpatialSearch::Refit(Collection& c, const RefitOptions& options, RefitSummary* summary) {
  if (options.kind != "pca" && options.kind != "random") {
    return Status::InvalidArgument("kind: unknown projection kind '" + options.kind +
                                   "' (known: pca, random)");
  }
  if (options.sample_size < index::Projection::kMinPcaSample ||
      options.sample_size > kMaxFitSample) {
    return Status::InvalidArgument("sample_size: must be in 16..1000000");
  }
  if (!(options.coarse_cell >= 0) || !std::isfinite(options.coarse_cell)) {
    return Status::InvalidArgument("coarse_cell: must be a finite number >= 0");
  }
  MutexLock refit(&c.refit_mu);
  const storage::CollectionRecord& record = c.record;
  const size_t dim = record.dimension();
  const uint64_t seed = options.seed != 0 ? options.seed : record.collection_id();
  const bool normalize = record.metric() == "cosine";
  const EmbeddingTable rows_table(tables_);

  // 1. A uniform sample of the rows (reservoir over their entries), then
  // their vectors.
  std::vector<float> sample;
  size_t rows = 0;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    std::mt19937_64 rng(seed);
    std::vector<storage::EmbeddingRef> picked;
    uint64_t seen = 0;
    HT_RETURN_IF_ERROR(
        rows_table.Scan(txn, record.collection_id(), 0, [&](const storage::EmbeddingRef& ref) {
          ++seen;
          if (picked.size() < options.sample_size) {
            picked.push_back(ref);
          } else {
            const uint64_t slot = std::uniform_int_distribution<uint64_t>(0, seen - 1)(rng);
            if (slot < picked.size()) picked[slot] = ref;
          }
          return Status::Ok();
        }));
    if (options.kind == "pca" && picked.size() < index::Projection::kMinPcaSample) {
      return Status::FailedPrecondition("collection: '" + record.name() + "' has " +
                                        std::to_string(picked.size()) +
                                        " embeddings; fitting pca needs at least " +
                                        std::to_string(index::Projection::kMinPcaSample));
    }
    sample.reserve(picked.size() * dim);
    for (const auto& ref : picked) {
      HT_ASSIGN_OR_RETURN(EmbeddingRecord row, rows_table.Read(txn, ref));
      std::vector<float> v = EmbeddingTable::VectorOf(row);
      if (v.size() != dim)
        return Status::DataLoss("atom_embeddings: a row has the wrong dimension");
      if (normalize) index::Normalize(v.data(), v.size());
      sample.insert(sample.end(), v.begin(), v.end());
    }
    rows = picked.size();
  }

  // 2. Fit, outside every lock but refit_mu.
  HT_ASSIGN_OR_RETURN(auto projection, index::MakeProjection(options.kind, dim, seed));
  if (rows > 0) HT_RETURN_IF_ERROR(projection->Fit(sample, rows));
  sample = {};
  const auto& scale = projection->scale();
  double cell = options.coarse_cell;
  if (cell == 0) {
    const double mean_scale = (scale[0] + scale[1] + scale[2]) / 3;
    cell = mean_scale > 0 && std::isfinite(mean_scale) ? mean_scale / 4 : 0.25;
  }
  const uint64_t version = c.CurrentSpace()->version() + 1;
  storage::ProjectionRecord next =
      CollectionSpace::RecordOf(record, *projection, version, cell, rows, seed);
  next.set_fitted_at_us(NowMicros());

  // 3. The new points, from a read snapshot, without blocking changes.
  HT_ASSIGN_OR_RETURN(std::unique_ptr<CollectionSpace> fresh, CollectionSpace::Make(record, next));
  ReconcileCounts counts;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_RETURN_IF_ERROR(Reconcile(txn, tables_, record, nullptr, fresh.get(), 1, &counts));
  }

  // 4. Durable first: a crash after this commit reprojects at the next start.
  HT_RETURN_IF_ERROR(writer_.Write([&](storage::WriteTxn& txn) -> Status {
    storage::CollectionTable collections(tables_);
    HT_ASSIGN_OR_RETURN(bool live, collections.records().Contains(txn, record.collection_id()));
    if (!live) return Status::NotFound("collection: '" + record.name() + "' was deleted");
    return collections.PutProjection(txn, next);
  }));

  // 5. Catch up with what committed meanwhile, then swap.
  {
    MutexLock lock(&c.apply_mu);
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_RETURN_IF_ERROR(Reconcile(txn, tables_, record, nullptr, fresh.get(), 1, &counts));
    summary->points = fresh->fine().size();
    c.SetSpace(std::shared_ptr<CollectionSpace>(std::move(fresh)));
    c.changes += 1;  // the next snapshot saves the new points
  }
  summary->projection = next;
  summary->reprojected = counts.projected;
  spdlog::info(
      "collection '{}': projection {} v{} fitted on {} rows, scale ({:.4g}, {:.4g}, {:.4g}), "
      "{} points reprojected",
      record.name(), next.kind(), version, rows, scale[0], scale[1], scale[2], counts.projected);
  return Status::Ok();
}

std::optional<std::pair<index::Point3, index::Point3>> SpatialSearch::PointsOf(
    const EmbeddingRecord& row) const {
  auto c = collections_.FindById(row.collection_id());
  if (!c) return std::nullopt;
  std::vector<float> v = EmbeddingTable::VectorOf(row);
  if (v.size() != c->record.dimension()) return std::nullopt;
  auto space = c->CurrentSpace();
  const index::Point3 fine = space->Project(v.data());
  return std::make_pair(fine, space->Snap(fine));
}

Result<SpatialQueryResult> SpatialSearch::Query(const SpatialQueryInput& in) const {
  HT_ASSIGN_OR_RETURN(auto c, collections_.Require(in.collection));
  auto space = c->CurrentSpace();
  const index::SpatialIndex& points =
      in.space == SpatialSpace::kCoarse ? space->coarse() : space->fine();
  // One more than the limit tells whether it cut anything.
  const size_t ask = in.limit == 0 ? 0 : in.limit + 1;
  std::vector<index::SpatialHit> hits;
  switch (in.shape) {
    case SpatialQueryInput::Shape::kRadius: {
      HT_ASSIGN_OR_RETURN(hits, points.WithinRadius(in.center, in.radius, ask));
      break;
    }
    case SpatialQueryInput::Shape::kBox: {
      HT_ASSIGN_OR_RETURN(hits, points.WithinBox(in.min, in.max, ask));
      break;
    }
    case SpatialQueryInput::Shape::kNearest: {
      HT_ASSIGN_OR_RETURN(hits, points.Nearest(in.center, in.k));
      break;
    }
  }
  SpatialQueryResult result;
  if (in.shape != SpatialQueryInput::Shape::kNearest && in.limit != 0 && hits.size() > in.limit) {
    hits.resize(in.limit);
    result.truncated = true;
  }
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  const EmbeddingTable rows(tables_);
  const uint64_t cid = c->record.collection_id();
  result.hits.reserve(hits.size());
  for (const auto& hit : hits) {
    HT_ASSIGN_OR_RETURN(std::optional<uint64_t> atom_id, rows.AtomOf(txn, cid, hit.id));
    if (!atom_id) continue;  // deleted by a commit whose hook has not run yet
    result.hits.push_back(SpatialQueryHit{*atom_id, hit.id, hit.point, hit.distance});
  }
  return result;
}

Result<std::vector<PointMatch>> SpatialSearch::NearestByProjection(const std::string& collection,
                                                                   const std::vector<float>& vector,
                                                                   size_t k) const {
  HT_ASSIGN_OR_RETURN(auto c, collections_.Require(collection));
  if (vector.size() != c->record.dimension()) {
    return Status::InvalidArgument("vector: " + std::to_string(vector.size()) +
                                   " components but collection '" + collection +
                                   "' has dimension " + std::to_string(c->record.dimension()));
  }
  SpatialQueryInput in;
  in.collection = collection;
  in.shape = SpatialQueryInput::Shape::kNearest;
  in.center = c->CurrentSpace()->Project(vector.data());
  in.k = k;
  HT_ASSIGN_OR_RETURN(auto found, Query(in));
  std::vector<PointMatch> out;
  out.reserve(found.hits.size());
  for (const auto& hit : found.hits)
    out.push_back(PointMatch{hit.atom_id, hit.embedding_id, hit.distance});
  return out;
}

}  // namespace hartonomous::engine
