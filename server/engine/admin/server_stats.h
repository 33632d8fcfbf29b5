// ServerStats: a snapshot of storage and group-commit counters, for
// AdminService.GetStats and the benchmarks.
//
// Thread-safety: Collect() is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

struct ServerStatsSnapshot {
  uint32_t schema_version = 0;
  uint64_t uptime_seconds = 0;
  storage::WriterStats writer;
  uint64_t map_size_bytes = 0;
  uint64_t map_resizes = 0;
  uint64_t data_file_bytes = 0;
  uint64_t free_bytes = 0;  // LMDB's freelist (Env::FreeBytes)
  // Every table of storage::AllTables(); the inference tables of slot 0
  // count every segment slot's rows.
  std::vector<std::pair<std::string, uint64_t>> table_entries;
  // Why the server is degraded (it serves reads, writes fail), empty when it
  // is not: today only a full disk (DiskFullReason).
  std::string degraded_reason;
};

// "" while writes succeed; after a write failed for lack of space (see
// storage::Env::disk_full_since_us) and until one succeeds: "disk full:
// writes have failed for lack of space for N s; the disk holding PATH has
// B bytes available; reads are served, and the first write that finds room
// clears this".
std::string DiskFullReason(const storage::Env& env);

Result<ServerStatsSnapshot> CollectServerStats(storage::Env& env, const storage::Tables& tables,
                                               const storage::WriteBatcher& writer,
                                               int64_t started_at_us);

}  // namespace hartonomous::engine
