// IndexMaintainer: keeps the collections' in-memory indexes durable and
// compact. It owns
//  - start-up: Load reads every stored collection, loads its index and its
//    fine points from the newest readable snapshot (or starts empty) and
//    catches them up with LMDB (Reconcile: rows written after the snapshot's
//    watermark are added, rows deleted since are removed); a collection that
//    replayed at least snapshot_after_replay rows is snapshotted at once;
//  - snapshots: <snapshot_dir>/<collection_id>/<kind>-<watermark>.snap and
//    fine.p<projection version>-<watermark>.snap, written to a temporary
//    file, fsynced and renamed, so a crash mid-snapshot leaves the previous
//    snapshot usable; the watermark is the highest embedding id applied;
//  - rebuilds: a fresh index built from LMDB and swapped in;
//  - the background thread: rebuilds past rebuild_deleted_fraction, fits
//    collections that reached projection_fit_after (through SpatialSearch),
//    and snapshots collections with changes (periodically, or past
//    snapshot_after_changes). Without it RunMaintenance does that work.
//
// Thread-safety: thread-safe. Snapshots and swaps take the collection's
// apply lock, so the watermark matches the index contents; the long parts
// (building, writing the file) do not block searches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "index/index_registry.h"
#include "server/engine/vectors/collection_registry.h"
#include "server/engine/vectors/embedding_options.h"
#include "server/engine/vectors/reconcile.h"
#include "server/engine/vectors/spatial_search.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"

namespace hartonomous::engine {

// What Load did, summed over collections.
struct LoadTotals {
  uint64_t collections = 0;
  uint64_t replayed = 0;     // rows added on top of the snapshots
  uint64_t removed = 0;      // snapshot rows deleted since, removed
  uint64_t snapshotted = 0;  // collections snapshotted right after their replay
};

class IndexMaintainer {
 public:
  // REQUIRES: every argument outlives this object.
  IndexMaintainer(storage::Env& env, const storage::Tables& tables,
                  const EmbeddingEngineOptions& options, const index::IndexRegistry& indexes,
                  CollectionRegistry& collections, SpatialSearch& spatial);
  ~IndexMaintainer();  // Stop()
  IndexMaintainer(const IndexMaintainer&) = delete;
  IndexMaintainer& operator=(const IndexMaintainer&) = delete;

  // Loads every stored collection into the registry (snapshot + catch-up),
  // snapshots those with a large replay and starts the background thread
  // (options.background). Aborted when observer.cancelled() said so.
  // REQUIRES: called once, with no write in progress.
  Status Load(const LoadObserver& observer);
  // What Load did. REQUIRES: Load returned.
  LoadTotals totals() const { return totals_; }
  // Stops the background thread and (snapshot_on_stop) snapshots the
  // collections with changes. Idempotent. REQUIRES: the writer still runs.
  void Stop() EXCLUDES(bg_mu_);

  // FailedPrecondition when snapshots are disabled (no snapshot_dir); OK
  // without writing when c was dropped.
  Status Snapshot(Collection& c) EXCLUDES(c.snapshot_mu, c.apply_mu);
  // Snapshots every collection with changes; the first failure, after
  // trying them all.
  Status SnapshotAll();
  // Builds a fresh index from LMDB (without blocking changes), catches it up
  // under the apply lock and swaps it in.
  Status Rebuild(Collection& c) EXCLUDES(c.apply_mu);
  // One pass of the background work on the caller's thread: fits, rebuilds,
  // and snapshots of collections with at least snapshot_after_changes
  // changes (any changes when due).
  void RunMaintenance(bool due);

  // After changes reached c's index (changed: c.changes counting them):
  // marks a rebuild or a projection fit wanted and wakes the background
  // thread when one is, or when a snapshot is due.
  void NoteApplied(Collection& c, uint64_t changed) REQUIRES(c.apply_mu) EXCLUDES(bg_mu_);
  // After c was deleted: removes its snapshots, once a snapshot in progress
  // has finished.
  void DropSnapshots(Collection& c) EXCLUDES(c.snapshot_mu);

 private:
  Status LoadCollection(const storage::CollectionRecord& record, const LoadObserver& observer);
  // The collection's space from its stored projection (or the default),
  // empty of points.
  Result<std::unique_ptr<CollectionSpace>> MakeSpace(storage::Txn& txn,
                                                     const storage::CollectionRecord& record);
  // The collection is still on its unfitted projection and has
  // projection_fit_after points.
  bool WantsFit(const Collection& c) const;
  std::string SnapshotDir(uint64_t collection_id) const;
  void BackgroundLoop() EXCLUDES(bg_mu_);

  storage::Env& env_;
  const storage::Tables& tables_;
  const EmbeddingEngineOptions& options_;
  const index::IndexRegistry& indexes_;
  CollectionRegistry& collections_;
  SpatialSearch& spatial_;

  LoadTotals totals_;  // written by Load only, before any reader

  Mutex bg_mu_;
  CondVar bg_cv_;  // signalled when stopping_ or work_pending_ is set
  bool stopping_ GUARDED_BY(bg_mu_) = false;
  bool work_pending_ GUARDED_BY(bg_mu_) = false;  // a rebuild, fit or snapshot is due
  bool stopped_ GUARDED_BY(bg_mu_) = false;
  // Not GUARDED_BY(bg_mu_): Load starts it holding bg_mu_ (unless Stop ran
  // first) and the one Stop call that set stopped_ joins it after releasing
  // bg_mu_, so the lock orders the two without covering the join.
  std::thread background_;
};

}  // namespace hartonomous::engine
