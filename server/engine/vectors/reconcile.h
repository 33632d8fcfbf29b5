// Reconcile: brings a collection's in-memory indexes in line with its rows
// in LMDB, the one catch-up used at start-up (an index loaded from a
// snapshot, or empty), by rebuilds (a fresh index) and by projection refits
// (a fresh CollectionSpace).
//
// It reads the rows of "embeddings_by_seq" in write order, adds those the
// index or space lacks (the index gets them in chunks, each inserted by
// several threads) and removes index labels and points that have no row.
//
// Thread-safety: a free function; the caller serialises changes to index
// and space (a fresh index nobody else sees, or the collection's apply lock
// held).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "index/vector_index.h"
#include "server/engine/vectors/collection_space.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"

namespace hartonomous::engine {

// Progress of a catch-up (EmbeddingEngine::Load), for start-up reporting.
// Both callbacks are optional and run on the loading thread.
struct LoadObserver {
  // Before a collection's replay (done = 0) and after each chunk of it: rows
  // added to its index so far, of total to add. Called only for collections
  // with rows to add.
  std::function<void(const std::string& collection, uint64_t done, uint64_t total)> progress;
  // Polled between chunks; true stops Load with Aborted.
  std::function<bool()> cancelled;
};

struct ReconcileCounts {
  uint64_t added = 0;      // vectors added to the index
  uint64_t removed = 0;    // index labels without a row, removed
  uint64_t projected = 0;  // points added to the space
  uint64_t max_seen = 0;   // highest embedding id of the collection
};

// Rows read and inserted per chunk of a replay: progress and cancellation
// are checked between chunks.
inline constexpr size_t kReplayChunk = 2048;

// Brings index and space (either may be null) in line with the rows of
// `collection` in txn, adding to *counts. threads: inserters per chunk, 0 =
// std::thread::hardware_concurrency(). observer (may be null) hears the
// index's progress and may cancel between chunks (Aborted). DataLoss when a
// row is missing, corrupt or of the wrong dimension.
Status Reconcile(storage::Txn& txn, const storage::Tables& tables,
                 const storage::CollectionRecord& collection, index::VectorIndex* index,
                 CollectionSpace* space, size_t threads, ReconcileCounts* counts,
                 const LoadObserver* observer = nullptr);

}  // namespace hartonomous::engine
