// Backup: an online, consistent copy of a data directory that
// `hartonomousd --data-dir` opens as it is (restore = start on it, or copy
// it into place). While it runs the server keeps serving reads and writes.
//
// What it writes, in this order, into a new directory DEST:
//   1. DEST/vector_indexes/...: a fresh snapshot of every collection's
//      index (EmbeddingEngine::SnapshotAll), then every *.snap file of the
//      data directory's vector_indexes, hard-linked when DEST is on the
//      same filesystem (snapshot files are never changed once written),
//      copied otherwise;
//   2. DEST/data.mdb: LMDB's compacting copy (Env::CopyCompacted), the
//      state of one read transaction begun after step 1.
// Each snapshot covers the vectors up to its watermark, at or below the
// copy's last sequence, so a start on DEST loads the snapshots and replays
// only the vectors written between the snapshot and the copy: no index is
// rebuilt. A snapshot superseded (removed) while being linked is skipped;
// its collection then loads the older snapshot, or is rebuilt from the copy
// when none is left, which is slower but as correct.
//
// DEST must be an absolute path that does not exist; its parent must.
// InvalidArgument naming `path` otherwise. A failure removes DEST.
//
// Thread-safety: thread-safe (concurrent backups to different paths work,
// each one after the other's snapshot).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "storage/lmdb_env.h"

namespace hartonomous::engine {

class EmbeddingEngine;

struct BackupReport {
  std::string path;
  uint64_t data_file_bytes = 0;  // DEST/data.mdb
  uint32_t index_files = 0;      // snapshot files in DEST/vector_indexes
  uint64_t index_bytes = 0;
  uint64_t duration_ms = 0;
};

Result<BackupReport> WriteBackup(storage::Env& env, EmbeddingEngine& embeddings,
                                 const std::string& data_dir, const std::string& dest);

}  // namespace hartonomous::engine
