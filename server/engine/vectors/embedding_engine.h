// EmbeddingEngine: vector collections, their embeddings (the design
// document's AtomEmbedding rows) and search over them, with the in-memory
// indexes kept in step with LMDB. Transport-free: no gRPC.
//
// A facade over collaborators, each with its own header and contract:
//  - CollectionRegistry (collection_registry.h): the live collections
//    (record, VectorIndex, CollectionSpace, locks) by name and id; create
//    and delete inside a write, visible from the commit hook.
//  - EmbeddingWriter (embedding_writer.h): the one row write (AddEmbeddings
//    and ingest with an embedding), deletes, and Apply: committed changes
//    reach index and points from WriteTxn::OnCommit hooks, in commit order,
//    before the write is acknowledged (an acknowledged embedding is
//    searchable).
//  - VectorSearch (vector_search.h): Search (ANN, widened and filtered, or
//    exact) and HybridSearch (PlanHybrid, hybrid_search.h), with atom
//    filters (AtomFilter) and hits resolved to atoms.
//  - IndexMaintainer (index_maintainer.h): Load (snapshot + catch-up by
//    Reconcile, reconcile.h), snapshots, rebuilds and the background thread.
//  - SpatialSearch (spatial_search.h): projection refits, spatial queries,
//    NearestByProjection and the points of a row (with CollectionSpace,
//    collection_space.h).
// LMDB is the source of truth: CollectionTable and EmbeddingTable
// (storage/tables/) own the tables "collections", "collection_names",
// "projections", "atom_embeddings" and "embeddings_by_seq".
//
// Thread-safety: thread-safe. Searches run in parallel with each other and
// with writes; index changes are serialised per collection.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "index/index_registry.h"
#include "server/engine/common/response_budget.h"
#include "server/engine/vectors/collection_registry.h"
#include "server/engine/vectors/embedding_options.h"
#include "server/engine/vectors/embedding_writer.h"
#include "server/engine/vectors/index_maintainer.h"
#include "server/engine/vectors/reconcile.h"
#include "server/engine/vectors/spatial_search.h"
#include "server/engine/vectors/vector_search.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

// The ids one collection's in-memory indexes hold (CaptureIndexContents).
struct IndexContents {
  uint64_t collection_id = 0;
  std::string name;
  std::vector<uint64_t> vectors;  // vector index labels (embedding ids)
  std::vector<uint64_t> points;   // fine spatial index ids (embedding ids)
};

class EmbeddingEngine {
 public:
  // Create + Load. REQUIRES: env, tables, writer and registry outlive the
  // engine.
  static Result<std::unique_ptr<EmbeddingEngine>> Open(
      storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
      EmbeddingEngineOptions options,
      const index::IndexRegistry& registry = index::IndexRegistry::Default());
  // An engine with no collection loaded, for a caller that wires it up
  // before the (possibly long) Load. REQUIRES: Load returns OK before any
  // other method is called; env, tables, writer and registry outlive it.
  static std::unique_ptr<EmbeddingEngine> Create(
      storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
      EmbeddingEngineOptions options,
      const index::IndexRegistry& registry = index::IndexRegistry::Default());
  // Loads every collection's index (snapshot + catch-up), snapshots the
  // collections with a large replay and starts the background thread.
  // Aborted when observer.cancelled() said so (the engine is then only fit
  // for Stop and destruction). REQUIRES: called once, before anything but
  // Stop, with no write in progress.
  Status Load(const LoadObserver& observer = {});
  // What the last Load did.
  LoadTotals load_totals() const;
  ~EmbeddingEngine();  // Stop()
  EmbeddingEngine(const EmbeddingEngine&) = delete;
  EmbeddingEngine& operator=(const EmbeddingEngine&) = delete;

  // Stops the background thread and (snapshot_on_stop) snapshots
  // collections with changes.
  // REQUIRES: the writer still runs. Idempotent.
  void Stop();

  // AlreadyExists when the name, or the (embedding_type, model_id) pair, is
  // taken. REQUIRES: spec.dimension in [1, kMaxDimension].
  Result<CollectionInfo> CreateCollection(const std::string& name, const CollectionSpec& spec);
  Result<CollectionInfo> GetCollection(const std::string& name);
  std::vector<CollectionInfo> ListCollections();
  // Deletes the collection, its embeddings and its snapshots.
  Status DeleteCollection(const std::string& name);
  // CreateCollection, DeleteCollection and DeleteEmbedding without waiting
  // for the commit: done receives their result on the writer thread after
  // the commit (short, must not block); a spec CreateCollection refuses is
  // answered on the caller's thread.
  using CollectionDone = std::function<void(Result<CollectionInfo>)>;
  using StatusDone = std::function<void(Status)>;
  void CreateCollectionAsync(std::string name, const CollectionSpec& spec, CollectionDone done);
  void DeleteCollectionAsync(std::string name, StatusDone done);
  void DeleteEmbeddingAsync(std::string collection, uint64_t atom_id, StatusDone done);

  // Stores every input or none, in one transaction. A missing collection is
  // created from create (or, without it, with embedding_type = name,
  // model_id 0, cosine, hnsw and the first vector's dimension; an empty
  // create.embedding_type also means the name). When the collection exists,
  // create must agree with its metric, kind, dimension (unless 0) and, when
  // given, embedding type and model. An atom that
  // already has an embedding in the collection gets the new one instead.
  Result<AddSummary> AddEmbeddings(const std::string& collection,
                                   const std::optional<CollectionSpec>& create,
                                   std::vector<EmbeddingInput> inputs);
  // The atom's embeddings, in every collection or only the named one.
  Result<std::vector<storage::EmbeddingRecord>> GetEmbeddings(uint64_t atom_id,
                                                              const std::string& collection);
  Status DeleteEmbedding(const std::string& collection, uint64_t atom_id);
  // Name of a live collection; empty when there is none with that id.
  std::string CollectionName(uint64_t collection_id) const;

  // REQUIRES: query.k >= 1 (the RPC layer enforces the configured maximum).
  // With a budget, each hit is charged (with its canonical text and
  // metadata when asked for) before those are read: ResourceExhausted
  // (ResponseBudget::Exceeded) when the hits do not fit.
  Result<SearchResult> Search(const SearchQuery& query, ResponseBudget* budget = nullptr);
  // The searches of a batch: the results, in order, that consecutive
  // Search calls sharing `budget` give, or the first failure's status with
  // its index in *failed. While cores are idle the searches also run on the
  // scan helpers (base/scan_workers.h), each within what the budget had
  // left at the batch's start; results are then charged in order, and a
  // search whose result does not fit, or that ran out of budget, runs again
  // alone against the shared budget: answer and error are those of the
  // sequence. Searches start only while the results held fit in what the
  // budget had left, so at most one result per helper beyond it is held.
  Result<std::vector<SearchResult>> SearchBatch(const std::vector<SearchQuery>& queries,
                                                ResponseBudget* budget, size_t* failed);
  // Searches (Search and HybridSearch) that stopped early because their
  // query's stop said so: past the deadline, or cancelled by the caller.
  uint64_t searches_stopped_deadline() const { return stopped_deadline_.load(); }
  uint64_t searches_stopped_cancelled() const { return stopped_cancelled_.load(); }

  // --- spatial (SpatialSearch) ---
  // Fits a new projection on a sample of the collection and reprojects every
  // embedding; searches keep running and switch to the new points at once.
  // FailedPrecondition when pca has fewer than Projection::kMinPcaSample rows.
  Result<RefitSummary> RefitProjection(const std::string& name, const RefitOptions& options);
  Result<SpatialQueryResult> SpatialQuery(const SpatialQueryInput& input);
  // The embeddings whose fine points are nearest to the projection of vector
  // (in the collection's current projection), nearest first, at most k.
  Result<std::vector<PointMatch>> NearestByProjection(const std::string& collection,
                                                      const std::vector<float>& vector, size_t k);
  // A stored row's fine and coarse points under its collection's current
  // projection; nullopt when the collection is gone.
  std::optional<std::pair<index::Point3, index::Point3>> PointsOf(
      const storage::EmbeddingRecord& row) const;
  // The two-stage query (see hybrid_search.h), with atom filters and the
  // hits resolved to atoms. InvalidArgument naming the field for bad input.
  // With a budget, hits are charged as by Search.
  Result<HybridSearchResult> HybridSearch(const HybridSearchQuery& query,
                                          ResponseBudget* budget = nullptr);

  Result<CollectionInfo> Rebuild(const std::string& name);
  // One pass of the background work, on the caller's thread: rebuilds
  // collections past rebuild_deleted_fraction, snapshots those with at least
  // snapshot_after_changes changes (any changes when due is true).
  void RunMaintenance(bool due);
  Result<CollectionInfo> Snapshot(const std::string& name);
  Status SnapshotAll();

  // Cascade from AtomEngine: deletes atom_id's embeddings inside txn; the
  // indexes follow when txn commits. Returns the rows removed.
  Result<uint64_t> RemoveAtomEmbeddings(storage::WriteTxn& txn, uint64_t atom_id);

  // For ingest with an embedding (server/engine/dedup/dedup_matcher.h),
  // inside the caller's write transaction: stores input in the existing
  // collection through the same row write as AddEmbeddings (replacing the
  // atom's previous embedding there); the index follows when txn commits.
  // NotFound naming `field`.collection when there is no such collection,
  // InvalidArgument naming `field`.vector on a dimension mismatch.
  // REQUIRES: input.atom_id exists in txn.
  Status PutEmbeddingInTxn(storage::WriteTxn& txn, const std::string& field,
                           const std::string& collection, const EmbeddingInput& input);

  // --- consistency checks (server/engine/admin/consistency_checker.h) ---
  // The labels each live collection's vector index and fine spatial index
  // hold, ascending. Call it with no write in progress
  // (WriteBatcher::RunExclusive): every commit's changes have then reached
  // the indexes, so they match a read transaction begun there.
  std::vector<IndexContents> CaptureIndexContents() const;
  // Brings the collection's vector index and points in line with its rows
  // (Reconcile, under its apply lock, with a fresh read transaction): the
  // repair of index-only mismatches. NotFound when the collection is gone.
  Status ReconcileCollection(uint64_t collection_id, ReconcileCounts* counts);

 private:
  EmbeddingEngine(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
                  EmbeddingEngineOptions options, const index::IndexRegistry& registry);

  storage::Env& env_;
  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
  const EmbeddingEngineOptions options_;
  // Declared in dependency order: each collaborator only uses those above it.
  CollectionRegistry collections_;
  SpatialSearch spatial_;
  IndexMaintainer maintainer_;
  EmbeddingWriter rows_;
  VectorSearch search_;
  std::atomic<uint64_t> stopped_deadline_{0};
  std::atomic<uint64_t> stopped_cancelled_{0};

  // Counts `status` when it is a stop; returns it.
  void CountStop(const Status& status);
};

}  // namespace hartonomous::engine
