// FilterMatches: the rows of one collection whose atoms match an AtomFilter
// in one read snapshot, as a set of labels (embedding ids) that answers
// Matches with one memory read, for the filtered graph traversal
// (index/filtered_search.h) and for exact scans of the matching rows.
//
// FilterMatchCache keeps the last FilterMatches per (collection, filter)
// with the snapshot it was built in. A lookup in the same snapshot (same
// LMDB transaction id of the same data file) gets it back; in a later
// snapshot, only the selectivity it measured (the planner's estimate: any
// commit may have changed which rows match). Building one scans every row
// of the collection and reads each row's atom: the cost of one exact
// filtered scan, paid once per snapshot instead of once per query.
//
// Errors: Build returns the storage error of the scan.
// Thread-safety: FilterMatches is immutable; FilterMatchCache is
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "index/vector_index.h"
#include "server/engine/atoms/atom_filter.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"

namespace hartonomous::engine {

class FilterMatches final : public index::LabelFilter {
 public:
  // Scans collection_id's rows in txn and keeps those whose atom matches.
  static Result<std::shared_ptr<const FilterMatches>> Build(storage::Txn& txn,
                                                            const storage::Tables& tables,
                                                            uint64_t collection_id,
                                                            const AtomFilter& filter);

  bool Matches(uint64_t label) const override;
  const std::vector<uint64_t>& labels() const { return labels_; }  // ascending
  size_t rows() const { return rows_; }                            // rows scanned
  // labels().size() / rows() (0 for an empty collection).
  double selectivity() const;

 private:
  FilterMatches(std::vector<uint64_t> labels, size_t rows);

  std::vector<uint64_t> labels_;
  size_t rows_ = 0;
  // One bit per label in [first_, first_ + 64 * bits_.size()) when that
  // range is small beside the count; otherwise a binary search of labels_.
  uint64_t first_ = 0;
  std::vector<uint64_t> bits_;
};

// Names a read snapshot: the data file (device and inode: a compaction
// renames a new file over it, whose transaction ids start over) and
// mdb_txn_id. The cache keeps entries of one file only.
struct SnapshotId {
  uint64_t file = 0;
  uint64_t txn_id = 0;
  bool operator==(const SnapshotId&) const = default;
};
SnapshotId SnapshotOf(const storage::Env& env, const storage::Txn& txn);

class FilterMatchCache {
 public:
  // Entries kept (least recently used dropped first).
  static constexpr size_t kMaxEntries = 32;

  struct Found {
    std::shared_ptr<const FilterMatches> matches;  // built in this snapshot, or null
    std::optional<double> selectivity;             // of the last build, any snapshot
  };
  Found Find(uint64_t collection_id, const AtomFilter& filter, SnapshotId snapshot) const
      EXCLUDES(mu_);
  void Put(uint64_t collection_id, const AtomFilter& filter, SnapshotId snapshot,
           std::shared_ptr<const FilterMatches> matches) EXCLUDES(mu_);

 private:
  struct Entry {
    uint64_t collection_id = 0;
    std::string key;
    SnapshotId snapshot;
    std::shared_ptr<const FilterMatches> matches;
    uint64_t used = 0;
  };
  mutable Mutex mu_;
  mutable std::vector<Entry> entries_ GUARDED_BY(mu_);
  mutable uint64_t clock_ GUARDED_BY(mu_) = 0;
  mutable uint64_t file_ GUARDED_BY(mu_) = 0;
};

}  // namespace hartonomous::engine
