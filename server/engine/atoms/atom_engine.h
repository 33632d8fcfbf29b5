// AtomEngine: the domain logic of content atoms — ingestion with exact
// (SHA-256) deduplication and reference counting, reads, listing, release,
// soft delete, purge and deduplication statistics. Transport-free: no gRPC.
//
// Inputs are assumed validated field by field (server/rpc/atom/atom_validation.h);
// the engine checks what needs the database (existence, state).
//
// Thread-safety: thread-safe. Reads run on the caller's thread in LMDB read
// transactions; writes go through the shared WriteBatcher (group commit) and
// return once durable.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "index/spatial/spatial_index.h"
#include "server/engine/atoms/atom_filter.h"
#include "server/engine/common/page_token.h"
#include "server/engine/common/paging.h"
#include "server/engine/common/response_budget.h"
#include "server/engine/dedup/dedup_matcher.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

struct AtomInput {
  std::string content;
  std::string modality;
  std::string subtype;
  std::string source_uri;
  std::string source_type;
  std::string canonical_text;
  std::string payload_locator;
  std::string metadata;
  std::optional<index::Point3> spatial_key;
  // Stored with a new atom, in the same transaction; compared against
  // existing atoms when the policy has a semantic or spatial threshold.
  std::optional<EmbeddingAttachment> embedding;
  // Deduplication policy by name; empty = exact SHA-256 matching only.
  std::string policy;
  // How errors name this atom: "" (a single ingest) or "atoms[3]".
  std::string field;
};

struct IngestedAtom {
  uint64_t atom_id = 0;
  Sha256Digest content_hash{};  // of the atom that holds the content
  int64_t reference_count = 0;
  bool created = false;
  DedupDecision dedup;
};

struct IngestSummary {
  std::vector<IngestedAtom> atoms;  // in input order
  uint64_t atoms_created = 0;
  uint64_t atoms_reused = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_stored = 0;
};

struct AtomView {
  storage::AtomRecord record;
  std::optional<std::string> content;  // when asked for
};

struct AtomPage {
  std::vector<AtomView> atoms;
  std::string next_page_token;  // empty = last page
};

struct PurgeSummary {
  uint64_t atoms_purged = 0;
  uint64_t bytes_freed = 0;
  uint64_t dependent_rows_removed = 0;
};

struct ModalityStats {
  std::string modality;
  storage::DedupCounter counter;
};

struct DedupReport {
  std::vector<storage::AtomRecord> top_atoms;  // canonical_text resolved
  std::vector<ModalityStats> modalities;
  storage::DedupCounter total;
  uint64_t data_file_bytes = 0;  // size of data.mdb (0 if it cannot be read)
  uint64_t data_used_bytes = 0;  // LMDB pages in use (Env::used_bytes)
};

class AtomEngine {
 public:
  // REQUIRES: env, tables and writer outlive the engine.
  AtomEngine(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
             std::string page_token_key);
  AtomEngine(const AtomEngine&) = delete;
  AtomEngine& operator=(const AtomEngine&) = delete;

  // Stores every atom or none, in one transaction. Identical content (also
  // within the batch) maps to one atom whose reference count grows by one per
  // occurrence; an inactive atom ingested again becomes active with one
  // reference. An atom that names a policy is then matched by the policy's
  // semantic and spatial thresholds against the committed embeddings of
  // active atoms (DedupMatcher): a match adds one reference to the matched
  // atom instead of storing the content. New atoms are stored with their
  // embedding. Errors name the atom's field (AtomInput::field).
  // REQUIRES: SetDedupMatcher was called when any input has a policy or an
  // embedding (else FailedPrecondition).
  Result<IngestSummary> Ingest(std::vector<AtomInput> atoms);

  // Ingest without waiting for the commit: the checks, hashing and
  // compression run on the caller's thread, the write is queued with the
  // writer (WriteBatcher::WriteAsync), and done receives Ingest's result on
  // the writer thread after the commit, or on the caller's thread, before
  // IngestAsync returns, when the atoms were refused before the write. done
  // must be short and must not block (it delays the writer's next group).
  using IngestDone = std::function<void(Result<IngestSummary>)>;
  void IngestAsync(std::vector<AtomInput> atoms, IngestDone done);

  // REQUIRES: called before the engine serves requests; matcher outlives
  // the engine.
  void SetDedupMatcher(DedupMatcher* matcher) { matcher_ = matcher; }

  // With a budget, the atom (ResponseBytes) is charged before its content
  // is read: ResourceExhausted (ResponseBudget::Exceeded) when it does not fit.
  Result<AtomView> Get(uint64_t atom_id, bool include_content, ResponseBudget* budget = nullptr);
  Result<AtomView> GetByHash(const Sha256Digest& hash, bool include_content,
                             ResponseBudget* budget = nullptr);
  // page_size: REQUIRES 1..kMaxPageSize (common/paging.h). The page token is bound to the
  // filter's modality, subtype, source_type and is_active (the fields
  // ListAtoms sets). With a budget, the page ends early (with a
  // next_page_token) before the first atom that would not fit;
  // ResourceExhausted when the first atom alone does not fit.
  Result<AtomPage> List(const AtomFilter& filter, int page_size, std::string_view page_token,
                        bool include_content, ResponseBudget* budget = nullptr);
  // One reference fewer; at zero the atom becomes inactive and releases the
  // atoms its 'contains' edges hold (transitively; the edges are removed).
  // FailedPrecondition when the atom is already inactive.
  Result<storage::AtomRecord> Release(uint64_t atom_id);
  // Soft delete: inactive with zero references (releasing what its
  // 'contains' edges hold, as Release), and its dependent rows (embeddings)
  // removed. Idempotent.
  Result<storage::AtomRecord> Delete(uint64_t atom_id);
  // Release and Delete without waiting for the commit: done receives their
  // result on the writer thread after the commit (short, must not block).
  using DropDone = std::function<void(Result<storage::AtomRecord>)>;
  void ReleaseAsync(uint64_t atom_id, DropDone done);
  void DeleteAsync(uint64_t atom_id, DropDone done);
  // Hard-deletes up to max_atoms inactive atoms (0 = all), in transactions of
  // at most kPurgeBatch atoms.
  Result<PurgeSummary> PurgeInactive(uint64_t max_atoms);
  // Inside txn (another engine's write): hard-deletes those of atom_ids
  // that are inactive, as PurgeInactive does (dependent rows included);
  // active and missing ones are left alone, an id given twice is purged
  // once. For atoms released by that write and referenced by no one (the
  // model engine's immediate purge).
  Result<PurgeSummary> PurgeAtoms(storage::WriteTxn& txn, const std::vector<uint64_t>& atom_ids);
  // Repacks every payload block that is more than half dead (its live
  // members move to new blocks; storage/tables/atom_table.h,
  // RepackSparseBlocks), in write transactions of at most
  // kRepackBlocksPerWrite blocks. Totals over all of them.
  Result<storage::RepackSummary> RepackPayloadBlocks();
  // top_n: REQUIRES 1..kMaxTopN.
  Result<DedupReport> DedupStats(int top_n);

  // Rows that depend on an atom and live outside Tables::atom_owned() (or
  // that need more than a prefix delete, e.g. index updates) are removed by
  // these, inside the transaction that deletes or purges the atom. Returns
  // the rows removed. REQUIRES: called before the engine serves requests.
  using DependentRemover = std::function<Result<uint64_t>(storage::WriteTxn&, uint64_t atom_id)>;
  void AddDependentRemover(DependentRemover remover) { removers_.push_back(std::move(remover)); }

  // An upper bound of the encoded size of the API Atom of `record` (with its
  // content when include_content), computed without reading the content.
  static size_t ResponseBytes(const storage::AtomRecord& record, bool include_content);

  static constexpr int kMaxTopN = 1000;
  static constexpr uint64_t kPurgeBatch = 10000;

 private:
  struct IngestState;
  // The caller's-thread part of an ingest: hashes, payloads packed, dedup
  // plans; returns the bytes the write declares.
  Result<size_t> Prepare(IngestState& state);
  // The write function of an ingest (re-runnable: starts the summary over).
  Status WriteIngest(storage::WriteTxn& txn, const IngestState& state, IngestSummary& summary);
  Result<AtomView> View(storage::ReadTxn& txn, uint64_t atom_id, bool include_content,
                        ResponseBudget* budget);
  void DropAsync(uint64_t atom_id, bool drop_all, DropDone done);
  Result<uint64_t> RemoveDependents(storage::WriteTxn& txn, uint64_t atom_id);

  storage::Env& env_;
  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
  PageTokenCodec tokens_;
  std::vector<DependentRemover> removers_;
  DedupMatcher* matcher_ = nullptr;
};

}  // namespace hartonomous::engine
