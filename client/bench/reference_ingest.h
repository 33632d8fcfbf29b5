// The in-process reference: what LMDB alone does with the same work as the
// server's IngestAtoms, with no gRPC, no protobuf and no group commit.
//
// One thread (LMDB has one writer) takes the plan's batches in the order the
// clients would interleave them and, per batch, runs one durable write
// transaction (default env flags: fsync at commit) that, for each atom,
// computes its SHA-256 (OpenSSL), looks the hash up in a hash -> id table,
// and either increments the refcount in the atom's small record or puts a new
// record, the content and the hash index entry.
//
// Thread-safety: RunReference is not reentrant for the same dir.
#pragma once

#include <string>

#include "bench_data.h"
#include "bench_report.h"

namespace hartonomous::bench {

struct ReferenceOptions {
  // Directory under which a fresh LMDB environment is made (and removed
  // afterwards unless keep). Required.
  std::string dir;
  // LMDB map size. Default: 8 GiB.
  size_t map_size = size_t{8} << 30;
  // Keep the environment after the run. Default: false.
  bool keep = false;
  // Open with MDB_WRITEMAP (writes go to the shared map; still durable: the
  // commit msyncs). For comparing write paths. Default: false.
  bool writemap = false;
  // Put new records and contents with MDB_APPEND (their keys, big-endian
  // atom ids, only grow): full pages instead of half-full ones after splits.
  // Default: false.
  bool append = false;
};

// Runs the reference over plan. Fills *result; returns false with *error set
// when LMDB fails.
bool RunReference(const ReferenceOptions& options, const AtomPlan& plan, RunResult* result,
                  std::string* error);

}  // namespace hartonomous::bench
