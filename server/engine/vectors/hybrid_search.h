// Hybrid search planning (PlanHybrid): the design document's two-stage
// query, which EmbeddingEngine::HybridSearch (VectorSearch::HybridSearch)
// runs on a collection. Stage 1 keeps the embeddings whose 3D projection
// lies within a radius of a centre (a given point, or the query vector's own
// projection); stage 2 reranks those candidates by vector distance
// (VectorIndex::RerankAmong: exactly, or for kinds holding codes in memory,
// by the codes and then exactly for the best of them) and keeps the top k. Optionally the answer's
// recall against the exact top k over the whole collection is measured, so users see what the
// prefilter cost them. An "auto" radius keeps a requested fraction of the collection.
//
// Transport-free and storage-free: it works on a collection's vector index
// and its CollectionSpace (projection plus fine and coarse points, labels =
// embedding ids). Filters on atom fields are applied by the caller to the
// candidate labels (filter_labels).
//
// Thread-safety: a pure function of its (thread-safe) inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/status.h"
#include "index/spatial/spatial_index.h"
#include "index/vector_index.h"
#include "server/engine/vectors/collection_space.h"

namespace hartonomous::engine {

struct HybridQuery {
  const float* vector = nullptr;  // REQUIRES: dimension of the collection
  size_t k = 10;
  // Centre of stage 1; unset = the projection of `vector`.
  std::optional<index::Point3> center;
  // Exactly one of radius (finite, >= 0) and keep_fraction (in (0, 1]).
  std::optional<double> radius;
  std::optional<double> keep_fraction;
  // With radius: select by coarse cell first, then by fine point (the same
  // candidates, found through the coarse grid).
  bool coarse_first = false;
  // > 0: stage 1 also takes the ANN index's ann_ef nearest labels.
  size_t ann_ef = 0;
  // Measure recall@k against an exact search over every vector.
  bool report_recall = false;
  // Keeps only the candidates for which it returns true (atom filters).
  std::function<bool(uint64_t label)> filter_labels;
  // Checked during the exact reranks (VectorIndex::ExactAmong); its stop
  // ends the plan with that status. nullptr = never stops.
  const Cancellation* stop = nullptr;
};

struct HybridResult {
  std::vector<index::Neighbor> hits;  // nearest first, at most k
  uint64_t candidates = 0;            // stage 1 survivors (after the filter)
  uint64_t ann_candidates = 0;        // of those, added by the ANN index only
  double radius = 0;                  // the radius stage 1 used
  index::Point3 center;
  std::optional<double> recall;  // when report_recall
};

// InvalidArgument naming the field for a bad radius/fraction/k.
Result<HybridResult> PlanHybrid(const index::VectorIndex& vectors, const CollectionSpace& space,
                                const HybridQuery& query);

}  // namespace hartonomous::engine
