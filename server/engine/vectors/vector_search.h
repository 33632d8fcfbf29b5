// VectorSearch: k-nearest-neighbour search over a collection, and the
// hybrid (spatial prefilter + exact rerank) search, with atom filters and
// hits resolved to atoms.
//
// Search plans one of five paths (SearchPath): the ANN index alone; the
// graph traversal that evaluates an atom filter as it goes; ANN candidates
// widened by the observed selectivity (up to max_widen_rounds times) and
// filtered; an exact scan of every vector; or an exact scan of the rows
// matching the filter. An atom filter's matching rows (FilterMatches) are
// built once per read snapshot and filter and reused by the searches of
// that snapshot. With a filter on an ANN index: the exact scan of the
// matching rows when matches * selectivity <= kTraversalScoresPerResult *
// max(k, ef) (a traversal visits about max(k, ef) / selectivity nodes), the
// traversal otherwise; post-filtering only when the matching rows are not
// known for this snapshot and the last build of them (an earlier snapshot)
// measured at least kPostFilterMinSelectivity of the rows matching. `exact`
// with a filter scans the matching rows. Hits are read back through LMDB in
// the search's read snapshot: a row deleted by a commit whose index hook has
// not run yet is never returned.
//
// Thread-safety: thread-safe; searches run in parallel with each other and
// with writes, on the index and space current when they started.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/cancellation.h"
#include "base/status.h"
#include "index/spatial/spatial_index.h"
#include "server/engine/atoms/atom_filter.h"
#include "server/engine/common/response_budget.h"
#include "server/engine/vectors/collection_registry.h"
#include "server/engine/vectors/filter_matches.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"

namespace hartonomous::engine {

struct SearchQuery {
  std::string collection;
  std::vector<float> vector;  // or:
  uint64_t atom_id = 0;       // search with this atom's embedding; the atom itself is left out
  size_t k = 10;
  size_t ef = 0;       // 0 = the collection's ef_search
  bool exact = false;  // force an exact scan
  AtomFilter filter;
  bool with_canonical_text = false;
  bool with_metadata = false;
  // The caller's deadline and cancel (base/cancellation.h), checked before
  // the search, after each ANN round and every kStopCheckBlock vectors of an
  // exact scan; nullptr = never stops. A stop returns its DeadlineExceeded
  // or Cancelled. (hnswlib's ANN search itself cannot be stopped midway.)
  const Cancellation* stop = nullptr;
};

enum class SearchPath {
  kAnn,                   // the ANN index alone
  kAnnPostFilter,         // ANN candidates, widened, then filtered
  kExact,                 // exact scan of every vector
  kExactFiltered,         // exact scan of the rows matching the filter
  kAnnFilteredTraversal,  // graph search evaluating the filter as it goes
};

// The planner's thresholds (see the top of this file).
inline constexpr size_t kTraversalScoresPerResult = 64;
inline constexpr double kPostFilterMinSelectivity = 0.05;
const char* SearchPathName(SearchPath path);

struct SearchHit {
  uint64_t atom_id = 0;
  uint64_t embedding_id = 0;
  float distance = 0;
  std::string canonical_text;
  std::string metadata;
};

struct SearchResult {
  std::vector<SearchHit> hits;  // nearest first
  SearchPath path = SearchPath::kAnn;
  uint64_t candidates_examined = 0;
};

struct HybridSearchQuery {
  std::string collection;
  std::vector<float> vector;  // or:
  uint64_t atom_id = 0;       // this atom's embedding; the atom itself is left out
  size_t k = 10;
  std::optional<index::Point3> center;  // unset = the query's projection
  std::optional<double> radius;         // exactly one of radius and
  std::optional<double> keep_fraction;  // keep_fraction
  bool coarse_first = false;
  // Also take the ANN index's nearest as candidates (ef of them; 0 = the
  // collection's ef_search).
  bool with_ann = false;
  size_t ef = 0;
  AtomFilter filter;
  bool report_recall = false;
  bool with_canonical_text = false;
  bool with_metadata = false;
  // As SearchQuery::stop (checked before the plan and in its exact reranks).
  const Cancellation* stop = nullptr;
};

struct HybridSearchResult {
  std::vector<SearchHit> hits;  // nearest first
  uint64_t candidates = 0;
  uint64_t ann_candidates = 0;
  double radius = 0;
  index::Point3 center;
  std::optional<double> recall;
  uint64_t projection_version = 0;
};

class VectorSearch {
 public:
  // max_widen_rounds: EmbeddingEngineOptions::max_widen_rounds.
  // REQUIRES: env, tables and collections outlive this object.
  VectorSearch(storage::Env& env, const storage::Tables& tables,
               const CollectionRegistry& collections, int max_widen_rounds);
  VectorSearch(const VectorSearch&) = delete;
  VectorSearch& operator=(const VectorSearch&) = delete;

  // REQUIRES: query.k >= 1. NotFound naming collection or atom_id;
  // InvalidArgument naming vector on a dimension mismatch. With a budget,
  // each hit is charged (with its canonical text and metadata when asked
  // for) before those are read: ResourceExhausted when they do not fit.
  Result<SearchResult> Search(const SearchQuery& query, ResponseBudget* budget) const;
  // The two-stage query (PlanHybrid, hybrid_search.h) with atom filters
  // applied to its candidates and hits charged as by Search.
  // InvalidArgument naming the field for bad input.
  Result<HybridSearchResult> HybridSearch(const HybridSearchQuery& query,
                                          ResponseBudget* budget) const;

 private:
  // The query vector: `vector`, or the stored embedding of atom_id (then
  // exclude_atom / exclude_label name it).
  struct QuerySource {
    std::vector<float> vector;
    uint64_t exclude_atom = 0;
    uint64_t exclude_label = 0;
  };
  Result<QuerySource> ResolveQuery(storage::Txn& txn, const Collection& c,
                                   const std::vector<float>& vector, uint64_t atom_id) const;
  // Charges each hit to the budget (when set) and fills what was asked for.
  Status FillAtomFields(storage::Txn& txn, std::vector<SearchHit>* hits, bool canonical_text,
                        bool metadata, ResponseBudget* budget) const;

  storage::Env& env_;
  const storage::Tables& tables_;
  const CollectionRegistry& collections_;
  const int max_widen_rounds_;
  mutable FilterMatchCache filter_matches_;
};

}  // namespace hartonomous::engine
