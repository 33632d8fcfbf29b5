// Compactor: AdminService.Compact. Returns the free pages of the data file
// to the filesystem while the server keeps serving (see Env::Compact for
// the copy, the checks and the crash-safe swap).
//
// A compaction runs Env::Compact on the writer thread through
// WriteBatcher::RunExclusive: the write requests queued before it commit
// first, those that arrive while it runs wait in the queue and commit after
// it (in the compacted file), so no acknowledged write can be missing from
// the copy. Reads continue during the copy and pause only for the swap
// (Env::Compact drains them as Env::Grow does). A second Compact while one
// runs is refused with FailedPrecondition, not queued.
//
// Nothing outside LMDB's own pages needs to follow the swap: engines read
// through transactions and copy what they keep (no MDB_val or string_view
// from a transaction outlives it), the in-memory indexes (HNSW, R-trees)
// hold ids and vectors, not LMDB pointers, and storage::Tables keeps its
// MDB_dbi values because Env::Compact reopens every table with the same
// handle or refuses.
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

class AtomEngine;

struct CompactorOptions {
  // Testing only: each compaction, on the writer thread and before its
  // copy, waits until this file exists (at most kTestingHoldLimit), so that
  // tests can act while a compaction is known to run. Default: empty = no.
  std::string testing_hold_until;
};

struct CompactionSummary {
  uint64_t file_bytes_before = 0;
  uint64_t file_bytes_after = 0;
  uint64_t atoms_purged = 0;
  uint64_t blocks_repacked = 0;      // payload blocks more than half dead
  uint64_t block_bytes_dropped = 0;  // their dead content bytes
  bool tables_repacked = false;      // storage::CompactResult::repacked
  uint64_t duration_ms = 0;
};

class Compactor {
 public:
  Compactor(storage::Env& env, storage::WriteBatcher& writer, AtomEngine& atoms,
            CompactorOptions options = {});
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  // Purges every inactive atom first when purge_inactive, repacks the
  // payload blocks that are more than half dead, then compacts.
  // FailedPrecondition while another compaction runs; ResourceExhausted
  // when the filesystem lacks room for the copy (nothing changed); the
  // errors of the purge or of Env::Compact otherwise.
  Result<CompactionSummary> Compact(bool purge_inactive);

  // True while Compact runs (the purge included).
  bool running() const { return running_.load(); }
  // Compactions that succeeded since construction.
  uint64_t completed() const { return completed_.load(); }

 private:
  // The testing hold (see CompactorOptions).
  void HoldForTesting() const;

  storage::Env& env_;
  storage::WriteBatcher& writer_;
  AtomEngine& atoms_;
  const CompactorOptions options_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> completed_{0};
};

}  // namespace hartonomous::engine
