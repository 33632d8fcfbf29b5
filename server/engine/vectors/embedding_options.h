// EmbeddingEngineOptions: the knobs of EmbeddingEngine and its collaborators
// (IndexMaintainer: snapshots, rebuilds, replay, projection fits;
// VectorSearch: filtered ANN widening). Set by the daemon from its flags.
//
// Thread-safety: a value type, read-only once the engine is created.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace hartonomous::engine {

struct EmbeddingEngineOptions {
  // Where index snapshots go; empty = never snapshot (always replay).
  std::string snapshot_dir;
  // Run a background thread for snapshots and automatic rebuilds. Without
  // it, RunMaintenance does that work when called. Default: true.
  bool background = true;
  // Periodic snapshots of collections with changes; 0 = none (the thread
  // still snapshots past snapshot_after_changes and rebuilds). Default: 60 s.
  std::chrono::milliseconds snapshot_interval{60000};
  // A collection with at least this many changes is snapshotted at the next
  // background tick. Default: 10000.
  uint64_t snapshot_after_changes = 10000;
  // Rebuild automatically once deleted / (live + deleted) reaches this and
  // at least rebuild_min_deleted are deleted. Default: 0.3 and 1000.
  double rebuild_deleted_fraction = 0.3;
  uint64_t rebuild_min_deleted = 1000;
  // A filtered ANN search widens its candidate list up to this many times
  // (x4 each) before falling back to an exact scan of the matching rows.
  // Default: 3.
  int max_widen_rounds = 3;
  // Snapshot collections with changes in Stop(). Default: true.
  bool snapshot_on_stop = true;
  // A collection still on its random projection is fitted with PCA (in the
  // background) once it holds this many vectors; 0 = only on request.
  // Default: 1000.
  uint64_t projection_fit_after = 1000;
  // Threads that insert replayed (and rebuilt) vectors into an index; 0 =
  // std::thread::hardware_concurrency(). Default: 0.
  size_t replay_threads = 0;
  // A collection that replayed (added or removed) at least this many rows
  // while loading is snapshotted before Load returns; 0 = never. Default:
  // 1000.
  uint64_t snapshot_after_replay = 1000;
};

}  // namespace hartonomous::engine
