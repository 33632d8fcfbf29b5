#include "server/engine/vectors/hybrid_search.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace hartonomous::engine {

Result<HybridResult> PlanHybrid(const index::VectorIndex& vectors, const CollectionSpace& space,
                                const HybridQuery& query) {
  if (query.vector == nullptr) return Status::InvalidArgument("vector: required");
  if (query.k == 0) return Status::InvalidArgument("k: must be >= 1");
  if (query.radius.has_value() == query.keep_fraction.has_value()) {
    return Status::InvalidArgument("radius or keep_fraction: exactly one is required");
  }
  if (query.radius && !(std::isfinite(*query.radius) && *query.radius >= 0)) {
    return Status::InvalidArgument("radius: must be a finite number >= 0");
  }
  if (query.keep_fraction && !(*query.keep_fraction > 0 && *query.keep_fraction <= 1)) {
    return Status::InvalidArgument("keep_fraction: must be in (0, 1]");
  }
  HybridResult result;
  const index::SpatialIndex& points = space.fine();
  result.center = query.center ? *query.center : space.Project(query.vector);

  // Stage 1: the spatial prefilter. Only the set matters to stage 2, which
  // ranks it: a radius's hits are taken in the index's order, unsorted.
  std::vector<uint64_t> near;
  if (query.radius) {
    result.radius = *query.radius;
    if (query.coarse_first) {
      HT_ASSIGN_OR_RETURN(near, space.IdsWithinRadiusCoarseFirst(result.center, result.radius));
    } else {
      HT_ASSIGN_OR_RETURN(near, points.IdsWithinRadius(result.center, result.radius));
    }
  } else {
    // The radius that keeps the fraction: the distance of the n-th nearest.
    const size_t n = std::max<size_t>(
        1,
        static_cast<size_t>(std::ceil(*query.keep_fraction * static_cast<double>(points.size()))));
    HT_ASSIGN_OR_RETURN(auto nearest, points.Nearest(result.center, n));
    result.radius = nearest.empty() ? 0 : nearest.back().distance;
    near.reserve(nearest.size());
    for (const auto& hit : nearest) near.push_back(hit.id);
  }
  std::vector<uint64_t> labels;
  labels.reserve(near.size());
  for (uint64_t id : near) {
    if (!query.filter_labels || query.filter_labels(id)) labels.push_back(id);
  }
  if (query.ann_ef > 0) {
    // The ANN index's nearest join the candidates (once each).
    HT_ASSIGN_OR_RETURN(auto ann, vectors.Search(query.vector, query.ann_ef, query.ann_ef));
    std::unordered_set<uint64_t> extra;
    for (const auto& n : ann) extra.insert(n.label);
    for (uint64_t label : labels) extra.erase(label);  // already a spatial candidate
    for (const auto& n : ann) {
      if (extra.count(n.label) == 0) continue;
      if (query.filter_labels && !query.filter_labels(n.label)) continue;
      labels.push_back(n.label);
      ++result.ann_candidates;
    }
  }
  result.candidates = labels.size();

  // Stage 2: the rerank of the candidates (exact, or codes first then
  // exact for kinds that hold codes: VectorIndex::RerankAmong).
  HT_ASSIGN_OR_RETURN(result.hits, vectors.RerankAmong(query.vector, labels, query.k, query.stop));

  if (query.report_recall) {
    // Against the exact top k over everything that passes the filter.
    std::vector<index::Neighbor> truth;
    if (query.filter_labels) {
      HT_ASSIGN_OR_RETURN(truth, vectors.ExactAmong(
                                     query.vector,
                                     [&] {
                                       std::vector<uint64_t> all = vectors.Labels();
                                       all.erase(std::remove_if(all.begin(), all.end(),
                                                                [&](uint64_t l) {
                                                                  return !query.filter_labels(l);
                                                                }),
                                                 all.end());
                                       return all;
                                     }(),
                                     query.k, query.stop));
    } else {
      HT_ASSIGN_OR_RETURN(truth, vectors.ExactSearch(query.vector, query.k, query.stop));
    }
    if (truth.empty()) {
      result.recall = 1.0;
    } else {
      std::unordered_set<uint64_t> expected;
      for (const auto& t : truth) expected.insert(t.label);
      size_t found = 0;
      for (const auto& h : result.hits) found += expected.count(h.label);
      result.recall = static_cast<double>(found) / static_cast<double>(truth.size());
    }
  }
  return result;
}

}  // namespace hartonomous::engine
