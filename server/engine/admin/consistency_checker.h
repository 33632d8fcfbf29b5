// ConsistencyChecker: AdminService.CheckConsistency. Verifies, read-only,
// that the stored tables agree with each other and with the in-memory
// indexes, and reports every mismatch with the ids involved; optionally
// repairs the mismatches that only concern an index.
//
// Checks (docs/operations.md lists the kinds they report):
//  - reference_counts: each atom's reference_count is at least the
//    references its stored holders take (user 'contains' edges, composite
//    child-list entries, document sources, tensor_atoms rows, model_files
//    atom pieces, model_import_staging rows, inference logs' input and output
//    texts); a client's own references (IngestAtom, IngestDocument) are
//    recorded nowhere, so a count above the holders is not a mismatch. An
//    active atom has a count >= 1 and an inactive one 0, listed_references
//    equals the child-list entries naming the atom, and every holder's atom
//    exists.
//  - hash_index: every atom has its "atom_hash" / "atom_hash_collisions"
//    entry, and every entry names an atom with that hash.
//  - state_index: "atoms_by_refcount" and "atoms_inactive" hold exactly the
//    entries the atoms' records call for.
//  - relations: every forward edge row has its reverse row and the other way
//    round, and both endpoints of every edge exist.
//  - embeddings: every "embeddings_by_seq" entry names its row and every
//    "atom_embeddings" row has its entry; the row's atom and collection exist.
//  - vector_index / spatial_index: each live collection's vector index and
//    fine spatial index hold exactly the embedding ids of its rows.
//  - tensor_atoms: each row's atom, model and layer exist (the layer id
//    matches the layer's), and each model_files row's model and layers exist.
//  - model_indexes: each model has its name (and type, architecture) entry
//    and each layer its layer id entry; no name entry names a missing model.
//
// Snapshot: the whole check reads one LMDB read transaction, begun on the
// writer thread between two write groups (WriteBatcher::RunExclusive)
// together with a copy of the in-memory indexes' ids, so tables and indexes
// are compared at one commit. Writes go on during the check; a write that
// must grow the LMDB map waits for it to end (Env::Grow waits for readers).
//
// Memory: tables are walked in key order with point lookups; the only
// per-atom state is the reference tally of one window of at most
// window_atoms atoms (one pass over the holder tables per window), and the
// copy of one collection's index ids at a time (the index itself holds
// more). Reported mismatches are capped at `limit` (all are counted), and
// at most max_repairs repairs are kept.
//
// Repair (repair = true) fixes only what can be rebuilt from the rows: a
// missing or dangling hash or state index entry (rewritten from the atom's
// record), a reverse edge row without its forward row (deleted) or a forward
// row without its reverse row (reverse written), and a collection's vector
// and spatial index (Reconcile). It never changes a reference count and
// never deletes a record, an edge or content. Table repairs are one write
// through the WriteBatcher, each rechecked inside it; index repairs run on
// the writer thread between write groups.
//
// Thread-safety: thread-safe (concurrent checks each take their snapshot).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

class EmbeddingEngine;

struct ConsistencyOptions {
  bool repair = false;
  // Mismatch entries returned; the rest are only counted. Default: 100.
  size_t limit = 100;
  // Atoms whose references are tallied per pass over the holder tables.
  // Default: 1 << 20.
  size_t window_atoms = size_t{1} << 20;
  // Repairs kept for the write; mismatches beyond it stay for the next run.
  // Default: 100000.
  size_t max_repairs = 100000;
};

struct ConsistencyMismatch {
  std::string check;          // e.g. "hash_index"
  std::string kind;           // e.g. "missing_index_entry"
  std::string table;          // the table or index the entry concerns
  std::vector<uint64_t> ids;  // atom, edge endpoints, collection + embedding...
  std::string expected;
  std::string found;
  bool repaired = false;
};

struct ConsistencyCheckCounts {
  std::string check;
  uint64_t checked = 0;     // items verified
  uint64_t mismatches = 0;  // found
  uint64_t repaired = 0;
};

struct ConsistencyReport {
  std::vector<ConsistencyCheckCounts> checks;   // every check, in a fixed order
  std::vector<ConsistencyMismatch> mismatches;  // the first `limit`
  uint64_t mismatch_count = 0;
  uint64_t repaired_count = 0;
  uint64_t windows = 0;  // passes over the holder tables
  uint64_t duration_ms = 0;
};

class ConsistencyChecker {
 public:
  // embeddings may be null: the vector and spatial index checks then count
  // nothing. REQUIRES: everything outlives the checker.
  ConsistencyChecker(storage::Env& env, const storage::Tables& tables,
                     storage::WriteBatcher& writer, EmbeddingEngine* embeddings)
      : env_(env), tables_(tables), writer_(writer), embeddings_(embeddings) {}
  ConsistencyChecker(const ConsistencyChecker&) = delete;
  ConsistencyChecker& operator=(const ConsistencyChecker&) = delete;

  // REQUIRES: options.limit >= 1, options.window_atoms >= 1. Errors: what
  // LMDB reports; a record that does not parse is DataLoss naming it.
  Result<ConsistencyReport> CheckConsistency(const ConsistencyOptions& options);

 private:
  storage::Env& env_;
  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
  EmbeddingEngine* const embeddings_;
};

}  // namespace hartonomous::engine
