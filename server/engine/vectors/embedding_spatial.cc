// EmbeddingEngine's spatial side: projection refits, spatial queries over
// projected points and the hybrid (spatial prefilter + exact rerank) search.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "base/clock.h"
#include "index/distance.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/vectors/embedding_internal.h"
#include "server/engine/vectors/hybrid_search.h"

namespace hartonomous::engine {

using namespace embedding_internal;
using storage::EmbeddingRecord;

namespace {

constexpr size_t kMaxFitSample = 1000000;

}  // namespace

Result<RefitSummary> EmbeddingEngine::RefitProjection(const std::string& name,
                                                      const RefitOptions& options) {
  HT_ASSIGN_OR_RETURN(auto c, Require(name));
  RefitSummary summary;
  HT_RETURN_IF_ERROR(RefitCollection(*c, options, &summary));
  return summary;
}

Status EmbeddingEngine::RefitCollection(Collection& c, const RefitOptions& options,
                                        RefitSummary* summary) {
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
  std::lock_guard refit(c.refit_mu);
  const storage::CollectionRecord& record = c.record;
  const size_t dim = record.dimension();
  const uint64_t seed = options.seed != 0 ? options.seed : record.collection_id();
  const bool normalize = record.metric() == "cosine";

  // 1. A uniform sample of the rows (reservoir over their keys), then their
  // vectors.
  std::vector<float> sample;
  size_t rows = 0;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    std::mt19937_64 rng(seed);
    std::vector<std::string> keys;
    uint64_t seen = 0;
    const std::string prefix = storage::Be64Key(record.collection_id());
    auto cursor = txn.OpenCursor(tables_.embeddings_by_seq);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
    while (valid && cursor->key().substr(0, 8) == prefix) {
      ++seen;
      if (keys.size() < options.sample_size) {
        keys.emplace_back(cursor->value());
      } else {
        const uint64_t slot = std::uniform_int_distribution<uint64_t>(0, seen - 1)(rng);
        if (slot < keys.size()) keys[slot] = std::string(cursor->value());
      }
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
    if (options.kind == "pca" && keys.size() < index::Projection::kMinPcaSample) {
      return Status::FailedPrecondition("collection: '" + record.name() + "' has " +
                                        std::to_string(keys.size()) +
                                        " embeddings; fitting pca needs at least " +
                                        std::to_string(index::Projection::kMinPcaSample));
    }
    sample.reserve(keys.size() * dim);
    for (const auto& key : keys) {
      std::string_view value;
      HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables_.atom_embeddings, key, &value));
      if (!found)
        return Status::DataLoss("embeddings_by_seq: a row of '" + record.name() + "' is missing");
      EmbeddingRecord row;
      HT_RETURN_IF_ERROR(Parse(value, &row, "atom_embeddings"));
      std::vector<float> v = VectorOf(row);
      if (v.size() != dim)
        return Status::DataLoss("atom_embeddings: a row has the wrong dimension");
      if (normalize) index::Normalize(v.data(), v.size());
      sample.insert(sample.end(), v.begin(), v.end());
    }
    rows = keys.size();
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
    HT_RETURN_IF_ERROR(Reconcile(txn, c, nullptr, fresh.get(), &counts));
  }

  // 4. Durable first: a crash after this commit reprojects at the next start.
  const std::string key = storage::Be64Key(record.collection_id());
  const std::string bytes = next.SerializeAsString();
  HT_RETURN_IF_ERROR(writer_.Write([&](storage::WriteTxn& txn) -> Status {
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool live, txn.Get(tables_.collections, key, &value));
    if (!live) return Status::NotFound("collection: '" + record.name() + "' was deleted");
    return txn.Put(tables_.projections, key, bytes);
  }));

  // 5. Catch up with what committed meanwhile, then swap.
  {
    std::lock_guard lock(c.apply_mu);
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_RETURN_IF_ERROR(Reconcile(txn, c, nullptr, fresh.get(), &counts));
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

std::optional<std::pair<index::Point3, index::Point3>> EmbeddingEngine::PointsOf(
    const EmbeddingRecord& row) const {
  auto c = FindById(row.collection_id());
  if (!c) return std::nullopt;
  std::vector<float> v = VectorOf(row);
  if (v.size() != c->record.dimension()) return std::nullopt;
  auto space = c->CurrentSpace();
  const index::Point3 fine = space->Project(v.data());
  return std::make_pair(fine, space->Snap(fine));
}

Result<SpatialQueryResult> EmbeddingEngine::SpatialQuery(const SpatialQueryInput& in) {
  HT_ASSIGN_OR_RETURN(auto c, Require(in.collection));
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
  const uint64_t cid = c->record.collection_id();
  result.hits.reserve(hits.size());
  for (const auto& hit : hits) {
    std::string_view key;
    HT_ASSIGN_OR_RETURN(bool live, txn.Get(tables_.embeddings_by_seq, SeqKey(cid, hit.id), &key));
    if (!live) continue;  // deleted by a commit whose hook has not run yet
    result.hits.push_back(SpatialQueryHit{storage::ReadBe64(key), hit.id, hit.point, hit.distance});
  }
  return result;
}

Result<std::vector<PointMatch>> EmbeddingEngine::NearestByProjection(
    const std::string& collection, const std::vector<float>& vector, size_t k) {
  HT_ASSIGN_OR_RETURN(auto c, Require(collection));
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
  HT_ASSIGN_OR_RETURN(auto found, SpatialQuery(in));
  std::vector<PointMatch> out;
  out.reserve(found.hits.size());
  for (const auto& hit : found.hits)
    out.push_back(PointMatch{hit.atom_id, hit.embedding_id, hit.distance});
  return out;
}

Result<HybridSearchResult> EmbeddingEngine::HybridSearch(const HybridSearchQuery& q,
                                                         ResponseBudget* budget) {
  HT_ASSIGN_OR_RETURN(auto c, Require(q.collection));
  const uint64_t cid = c->record.collection_id();
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(QuerySource source, ResolveQuery(txn, *c, q.vector, q.atom_id));
  auto index = c->CurrentIndex();
  auto space = c->CurrentSpace();

  AtomMatcher matcher(txn, tables_, q.filter);
  Status filter_error;
  HybridQuery plan;
  plan.vector = source.vector.data();
  plan.k = q.k;  // the query atom, if any, is kept out by filter_labels
  plan.center = q.center;
  plan.radius = q.radius;
  plan.keep_fraction = q.keep_fraction;
  plan.coarse_first = q.coarse_first;
  plan.report_recall = q.report_recall;
  if (q.with_ann) plan.ann_ef = std::max(q.k, q.ef != 0 ? q.ef : c->spec.params.ef_search);
  if (!q.filter.empty()) {
    plan.filter_labels = [&](uint64_t label) {
      if (label == source.exclude_label || !filter_error.ok()) return false;
      std::string_view key;
      auto live = txn.Get(tables_.embeddings_by_seq, SeqKey(cid, label), &key);
      if (!live.ok()) {
        filter_error = live.status();
        return false;
      }
      if (!*live) return false;
      auto match = matcher.Matches(storage::ReadBe64(key));
      if (!match.ok()) {
        filter_error = match.status();
        return false;
      }
      return *match;
    };
  } else if (source.exclude_label != 0) {
    plan.filter_labels = [&](uint64_t label) { return label != source.exclude_label; };
  }
  HT_ASSIGN_OR_RETURN(auto planned, engine::HybridSearch(*index, *space, plan));
  HT_RETURN_IF_ERROR(filter_error);

  HybridSearchResult result;
  result.candidates = planned.candidates;
  result.ann_candidates = planned.ann_candidates;
  result.radius = planned.radius;
  result.center = planned.center;
  result.recall = planned.recall;
  result.projection_version = space->version();
  for (const auto& n : planned.hits) {
    if (result.hits.size() == q.k) break;
    if (n.label == source.exclude_label) continue;
    std::string_view key;
    HT_ASSIGN_OR_RETURN(bool live, txn.Get(tables_.embeddings_by_seq, SeqKey(cid, n.label), &key));
    if (!live) continue;
    result.hits.push_back(SearchHit{storage::ReadBe64(key), n.label, n.distance, {}, {}});
  }
  HT_RETURN_IF_ERROR(
      FillAtomFields(txn, &result.hits, q.with_canonical_text, q.with_metadata, budget));
  return result;
}

}  // namespace hartonomous::engine
