// AtomPoints: an R-tree of atoms' own spatial_key points, for spatial
// queries in the ATOM space.
//
// Atom ids come from a sequence inside the single writer's transactions, so
// every committed atom has an id below the highest one a reader sees. The
// index therefore catches up by id: each query first adds the atoms stored
// after the last one it has seen (a spatial_key never changes once an atom is
// stored). Removals arrive through OnRemove, registered with AtomEngine as a
// dependent remover, when the removing transaction commits; a hit whose atom
// is missing from the query's read snapshot although its id is not above the
// snapshot's highest atom id was purged: it is dropped from the answer and
// from the tree.
//
// Snapshots: SaveSnapshot writes the points with the highest atom id read
// as the watermark (atomically; the daemon saves at shutdown), LoadSnapshot
// restores them at start, and the next query catches up from the
// watermark. Without a snapshot the first query reads every atom.
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "base/mutex.h"
#include "base/status.h"
#include "index/spatial/spatial_index.h"
#include "server/engine/vectors/spatial_search.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"

namespace hartonomous::engine {

class AtomPoints {
 public:
  // REQUIRES: env and tables outlive this object.
  AtomPoints(storage::Env& env, const storage::Tables& tables);

  // For AtomEngine::AddDependentRemover: the atom's point goes when txn
  // commits. Returns 0 (no rows of its own).
  Result<uint64_t> OnRemove(storage::WriteTxn& txn, uint64_t atom_id);

  // input.collection and input.space are ignored; embedding_id of hits is 0.
  Result<SpatialQueryResult> Query(const SpatialQueryInput& input);

  // Points indexed so far (after the last catch-up).
  size_t size() const;

  // Writes the points and the watermark to path (temp file, fsync, rename).
  Status SaveSnapshot(const std::string& path);
  // Restores a snapshot written by SaveSnapshot. NotFound when there is no
  // file, DataLoss when it is damaged (the caller then starts empty).
  // REQUIRES: no query has run yet.
  Status LoadSnapshot(const std::string& path);

 private:
  Status CatchUp(storage::Txn& txn);

  storage::Env& env_;
  const storage::AtomTable atoms_;
  std::unique_ptr<index::SpatialIndex> points_;
  Mutex catch_up_mu_;
  uint64_t seen_up_to_ GUARDED_BY(catch_up_mu_) = 0;  // highest atom id read
};

}  // namespace hartonomous::engine
