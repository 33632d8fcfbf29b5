#include "server/engine/vectors/vector_search.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "base/scan_workers.h"
#include "server/engine/vectors/filter_matches.h"
#include "server/engine/vectors/hybrid_search.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/embedding_table.h"

namespace hartonomous::engine {

using storage::EmbeddingRecord;
using storage::EmbeddingTable;

namespace {

// Evaluates an AtomFilter against atoms of one read transaction, reading
// each atom once.
class FilterCache {
 public:
  FilterCache(storage::Txn& txn, const storage::Tables& tables, const AtomFilter& filter)
      : txn_(txn), atoms_(tables), filter_(filter) {}

  Result<bool> Matches(uint64_t atom_id) {
    if (filter_.empty()) return true;
    auto it = cache_.find(atom_id);
    if (it != cache_.end()) return it->second;
    HT_ASSIGN_OR_RETURN(auto atom, atoms_.Get(txn_, atom_id));
    const bool match = atom && filter_.Matches(*atom);
    cache_.emplace(atom_id, match);
    return match;
  }

 private:
  storage::Txn& txn_;
  storage::AtomTable atoms_;
  const AtomFilter& filter_;
  std::unordered_map<uint64_t, bool> cache_;
};

}  // namespace

const char* SearchPathName(SearchPath path) {
  switch (path) {
    case SearchPath::kAnn:
      return "ann";
    case SearchPath::kAnnPostFilter:
      return "ann_post_filter";
    case SearchPath::kExact:
      return "exact";
    case SearchPath::kExactFiltered:
      return "exact_filtered";
    case SearchPath::kAnnFilteredTraversal:
      return "ann_filtered_traversal";
  }
  return "unknown";
}

VectorSearch::VectorSearch(storage::Env& env, const storage::Tables& tables,
                           const CollectionRegistry& collections, int max_widen_rounds)
    : env_(env), tables_(tables), collections_(collections), max_widen_rounds_(max_widen_rounds) {}

Result<SearchResult> VectorSearch::Search(const SearchQuery& q, ResponseBudget* budget) const {
  // Counted so that scans take helper threads only while cores are idle.
  ScanWorkers::Query in_progress(ScanWorkers::Shared());
  const std::string what = "search of collection '" + q.collection + "'";
  // Stopped (with the search named) or OK.
  auto check_stop = [&]() -> Status {
    if (q.stop == nullptr) return Status::Ok();
    return q.stop->Check(what);
  };
  HT_RETURN_IF_ERROR(check_stop());
  HT_ASSIGN_OR_RETURN(auto c, collections_.Require(q.collection));
  const uint64_t cid = c->record.collection_id();
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(QuerySource source, ResolveQuery(txn, *c, q.vector, q.atom_id));
  const std::vector<float>& query = source.vector;
  const uint64_t exclude_atom = source.exclude_atom;

  auto index = c->CurrentIndex();
  const EmbeddingTable rows(tables_);
  FilterCache matcher(txn, tables_, q.filter);
  const bool filtered = !q.filter.empty() || exclude_atom != 0;
  SearchResult result;
  const size_t live = index->size();

  // Resolves labels to atoms (rows deleted in this snapshot are skipped) and
  // keeps matching ones, up to want.
  auto collect = [&](const std::vector<index::Neighbor>& neighbors, size_t want,
                     bool check_filter) -> Status {
    result.hits.clear();
    for (const auto& n : neighbors) {
      if (result.hits.size() == want) break;
      HT_ASSIGN_OR_RETURN(std::optional<uint64_t> atom_id, rows.AtomOf(txn, cid, n.label));
      if (!atom_id) continue;
      if (*atom_id == exclude_atom) continue;
      if (check_filter) {
        HT_ASSIGN_OR_RETURN(bool match, matcher.Matches(*atom_id));
        if (!match) continue;
      }
      result.hits.push_back(SearchHit{*atom_id, n.label, n.distance, {}, {}});
    }
    return Status::Ok();
  };
  // Every row of the collection that matches the filter, exactly.
  auto exact_filtered = [&]() -> Status {
    std::vector<uint64_t> labels;
    HT_RETURN_IF_ERROR(rows.Scan(txn, cid, 0, [&](const storage::EmbeddingRef& ref) -> Status {
      if (ref.atom_id() == exclude_atom) return Status::Ok();
      HT_ASSIGN_OR_RETURN(bool match, matcher.Matches(ref.atom_id()));
      if (match) labels.push_back(ref.embedding_id());
      return Status::Ok();
    }));
    result.candidates_examined = labels.size();
    HT_RETURN_IF_ERROR(check_stop());
    HT_ASSIGN_OR_RETURN(auto neighbors, index->ExactAmong(query.data(), labels, q.k, q.stop));
    return collect(neighbors, q.k, /*check_filter=*/false);
  };

  // ANN candidates widened by the observed selectivity, then filtered;
  // the exact filtered scan when the rounds run out.
  auto post_filter = [&](size_t ef) -> Status {
    const size_t total = live + index->deleted();
    // Unfiltered, the k nearest are the answer (a quantized index reranks
    // only what it returns); rows deleted in this snapshot widen below.
    size_t want = filtered ? 4 * std::max(q.k, ef) : q.k;
    result.path = filtered ? SearchPath::kAnnPostFilter : SearchPath::kAnn;
    bool done = false;
    for (int round = 0; round <= max_widen_rounds_ && live > 0; ++round) {
      // A candidate list as long as the collection costs more than an exact
      // scan of the matching rows.
      if (filtered && want >= total) break;
      const size_t ask = std::min(want, total);
      HT_ASSIGN_OR_RETURN(auto neighbors, index->Search(query.data(), ask, std::max(ask, ef)));
      HT_RETURN_IF_ERROR(check_stop());
      result.candidates_examined = neighbors.size();
      HT_RETURN_IF_ERROR(collect(neighbors, q.k, !q.filter.empty()));
      // Enough, or nothing more to find: the index returned every live vector.
      if (result.hits.size() >= q.k || (neighbors.size() >= live && ask >= total)) {
        done = true;
        break;
      }
      if (ask >= total) break;
      // Widen by the observed selectivity (with a margin), at least x2; with
      // no match yet, x8.
      const size_t matched = result.hits.size();
      const size_t projected =
          matched == 0 ? want * 8
                       : static_cast<size_t>(static_cast<double>(ask) * q.k / matched * 1.5) + 1;
      want = std::max(projected, want * 2);
    }
    if (!done && live > 0) {
      result.path = filtered ? SearchPath::kExactFiltered : SearchPath::kExact;
      HT_RETURN_IF_ERROR(exact_filtered());
    }
    return Status::Ok();
  };
  // The exact k nearest of the rows of `matches` (k + 1: the query atom,
  // if any, is left out by collect).
  auto exact_among = [&](const FilterMatches& matches) -> Status {
    result.path = SearchPath::kExactFiltered;
    result.candidates_examined = matches.labels().size();
    HT_ASSIGN_OR_RETURN(auto neighbors,
                        index->ExactAmong(query.data(), matches.labels(), q.k + 1, q.stop));
    return collect(neighbors, q.k, /*check_filter=*/false);
  };
  // The rows of `matches`: scanned exactly when they are few, otherwise
  // the graph traversal that evaluates the filter as it goes (and the
  // exact scan of them if it finds fewer than k).
  auto filtered_by = [&](const FilterMatches& matches, size_t ef) -> Status {
    const size_t count = matches.labels().size();
    // A traversal visits about max(k, ef) / selectivity nodes before its
    // result list of matching rows is full, scoring several per visit; the
    // exact scan scores each matching row once.
    if (static_cast<double>(count) * matches.selectivity() <=
        static_cast<double>(kTraversalScoresPerResult * std::max(q.k, ef))) {
      return exact_among(matches);
    }
    result.path = SearchPath::kAnnFilteredTraversal;
    HT_ASSIGN_OR_RETURN(auto neighbors, index->FilteredSearch(query.data(), q.k + 1,
                                                              std::max(q.k + 1, ef), matches));
    HT_RETURN_IF_ERROR(check_stop());
    result.candidates_examined = neighbors.size();
    HT_RETURN_IF_ERROR(collect(neighbors, q.k, /*check_filter=*/false));
    if (result.hits.size() >= std::min(q.k, count)) return Status::Ok();
    // Fewer than k reached (matching rows cut off from the rest of the
    // graph, or rows the index has not caught up with): scan them.
    return exact_among(matches);
  };

  const bool exact = q.exact || index->exact();
  // An atom filter: the rows it matches in this snapshot (built now unless
  // an ANN search may post-filter: the last build says the filter matches
  // many rows, where widening the ANN candidates is cheaper than a scan of
  // the collection).
  std::shared_ptr<const FilterMatches> matches;
  if (!q.filter.empty() && live > 0) {
    const SnapshotId snapshot = SnapshotOf(env_, txn);
    FilterMatchCache::Found found = filter_matches_.Find(cid, q.filter, snapshot);
    matches = std::move(found.matches);
    const bool post_filter_cheaper =
        !exact && found.selectivity && *found.selectivity >= kPostFilterMinSelectivity;
    if (!matches && !post_filter_cheaper) {
      HT_ASSIGN_OR_RETURN(matches, FilterMatches::Build(txn, tables_, cid, q.filter));
      filter_matches_.Put(cid, q.filter, snapshot, matches);
      HT_RETURN_IF_ERROR(check_stop());
    }
  }
  if (exact) {
    if (matches) {
      HT_RETURN_IF_ERROR(exact_among(*matches));
    } else if (filtered) {
      result.path = SearchPath::kExactFiltered;
      HT_RETURN_IF_ERROR(exact_filtered());
    } else {
      result.path = SearchPath::kExact;
      HT_ASSIGN_OR_RETURN(auto neighbors, index->ExactSearch(query.data(), q.k, q.stop));
      result.candidates_examined = live;
      HT_RETURN_IF_ERROR(collect(neighbors, q.k, false));
    }
  } else {
    const size_t ef = q.ef != 0 ? q.ef : c->spec.params.ef_search;
    if (matches) {
      HT_RETURN_IF_ERROR(filtered_by(*matches, ef));
    } else {
      HT_RETURN_IF_ERROR(post_filter(ef));
    }
  }

  HT_RETURN_IF_ERROR(
      FillAtomFields(txn, &result.hits, q.with_canonical_text, q.with_metadata, budget));
  return result;
}

Result<HybridSearchResult> VectorSearch::HybridSearch(const HybridSearchQuery& q,
                                                      ResponseBudget* budget) const {
  ScanWorkers::Query in_progress(ScanWorkers::Shared());
  if (q.stop != nullptr) {
    HT_RETURN_IF_ERROR(q.stop->Check("hybrid search of collection '" + q.collection + "'"));
  }
  HT_ASSIGN_OR_RETURN(auto c, collections_.Require(q.collection));
  const uint64_t cid = c->record.collection_id();
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(QuerySource source, ResolveQuery(txn, *c, q.vector, q.atom_id));
  auto index = c->CurrentIndex();
  auto space = c->CurrentSpace();

  const EmbeddingTable rows(tables_);
  FilterCache matcher(txn, tables_, q.filter);
  Status filter_error;
  HybridQuery plan;
  plan.vector = source.vector.data();
  plan.k = q.k;  // the query atom, if any, is kept out by filter_labels
  plan.center = q.center;
  plan.radius = q.radius;
  plan.keep_fraction = q.keep_fraction;
  plan.coarse_first = q.coarse_first;
  plan.report_recall = q.report_recall;
  plan.stop = q.stop;
  if (q.with_ann) plan.ann_ef = std::max(q.k, q.ef != 0 ? q.ef : c->spec.params.ef_search);
  if (!q.filter.empty()) {
    plan.filter_labels = [&](uint64_t label) {
      if (label == source.exclude_label || !filter_error.ok()) return false;
      auto atom_id = rows.AtomOf(txn, cid, label);
      if (!atom_id.ok()) {
        filter_error = atom_id.status();
        return false;
      }
      if (!*atom_id) return false;
      auto match = matcher.Matches(**atom_id);
      if (!match.ok()) {
        filter_error = match.status();
        return false;
      }
      return *match;
    };
  } else if (source.exclude_label != 0) {
    plan.filter_labels = [&](uint64_t label) { return label != source.exclude_label; };
  }
  HT_ASSIGN_OR_RETURN(auto planned, PlanHybrid(*index, *space, plan));
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
    HT_ASSIGN_OR_RETURN(std::optional<uint64_t> atom_id, rows.AtomOf(txn, cid, n.label));
    if (!atom_id) continue;
    result.hits.push_back(SearchHit{*atom_id, n.label, n.distance, {}, {}});
  }
  HT_RETURN_IF_ERROR(
      FillAtomFields(txn, &result.hits, q.with_canonical_text, q.with_metadata, budget));
  return result;
}

Result<VectorSearch::QuerySource> VectorSearch::ResolveQuery(storage::Txn& txn, const Collection& c,
                                                             const std::vector<float>& vector,
                                                             uint64_t atom_id) const {
  const std::string& name = c.record.name();
  QuerySource source;
  if (atom_id == 0) {
    if (vector.size() != c.record.dimension()) {
      return Status::InvalidArgument("vector: " + std::to_string(vector.size()) +
                                     " components but collection '" + name + "' has dimension " +
                                     std::to_string(c.record.dimension()));
    }
    source.vector = vector;
    return source;
  }
  HT_ASSIGN_OR_RETURN(
      std::optional<EmbeddingRecord> row,
      EmbeddingTable(tables_).Find(txn, atom_id, c.record.embedding_type(), c.record.model_id()));
  if (!row) {
    return Status::NotFound("atom_id: atom " + std::to_string(atom_id) +
                            " has no embedding in collection '" + name + "'");
  }
  source.vector = EmbeddingTable::VectorOf(*row);
  source.exclude_atom = atom_id;
  source.exclude_label = row->embedding_id();
  return source;
}

Status VectorSearch::FillAtomFields(storage::Txn& txn, std::vector<SearchHit>* hits,
                                    bool canonical_text, bool metadata,
                                    ResponseBudget* budget) const {
  // A hit without text: atom id, embedding id, distance and framing.
  constexpr size_t kHitBytes = 32;
  constexpr std::string_view kAdvice = "request fewer results or without metadata/canonical text";
  if (!canonical_text && !metadata) {
    if (budget == nullptr) return Status::Ok();
    for (size_t i = 0; i < hits->size(); ++i) {
      HT_RETURN_IF_ERROR(budget->ChargeItem(kHitBytes, kAdvice));
    }
    return Status::Ok();
  }
  storage::AtomTable atoms(tables_);
  for (auto& hit : *hits) {
    HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, hit.atom_id));
    size_t bytes = kHitBytes;
    if (atom && canonical_text) {
      bytes +=
          atom->canonical_text().size() + storage::AtomTable::UnstoredCanonicalTextBytes(*atom) + 8;
    }
    if (atom && metadata) bytes += atom->metadata().size() + 8;
    if (budget != nullptr) HT_RETURN_IF_ERROR(budget->ChargeItem(bytes, kAdvice));
    if (!atom) continue;
    if (canonical_text) {
      HT_RETURN_IF_ERROR(atoms.ResolveCanonicalText(txn, &*atom));
      hit.canonical_text = std::move(*atom->mutable_canonical_text());
    }
    if (metadata) hit.metadata = atom->metadata();
  }
  return Status::Ok();
}

}  // namespace hartonomous::engine
