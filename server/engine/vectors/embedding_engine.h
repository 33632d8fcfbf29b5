// EmbeddingEngine: vector collections, their embeddings (the design
// document's AtomEmbedding rows) and search over them, with the in-memory
// indexes kept in step with LMDB. Transport-free: no gRPC.
//
// Storage and indexes:
//  - LMDB is the source of truth (tables "collections", "collection_names",
//    "atom_embeddings", "embeddings_by_seq"; see storage/schema.h).
//  - Each collection has one VectorIndex (kind chosen by name through
//    index::IndexRegistry). Committed writes reach the index in commit order
//    from WriteTxn::OnCommit hooks, i.e. before the write is acknowledged: an
//    acknowledged embedding is searchable.
//  - Indexes are snapshotted to <snapshot_dir>/<collection_id>/ in the
//    background (write to a temporary file, fsync, rename: a crash
//    mid-snapshot leaves the previous snapshot usable). On Open each index is
//    loaded from its newest readable snapshot and caught up with LMDB: rows
//    written after the snapshot's watermark are added, rows deleted since are
//    removed. Nothing is rebuilt unless no snapshot can be read. The rows to
//    add are read first, then inserted into the index by several threads
//    (replay_threads) in chunks, with progress reported to a LoadObserver;
//    a collection that replayed at least snapshot_after_replay rows is
//    snapshotted at once, so a second crash does not replay them again.
//  - Deletes mark the index; Rebuild (and the background thread, past
//    rebuild_deleted_fraction) builds a fresh index and swaps it in.
//  - Each collection also has a CollectionSpace: its 3D projection (table
//    "projections"; the seeded random projection until fitted) and R-trees of
//    every embedding's projected fine and coarse points, kept in step by the
//    same commit hooks. The fine points are snapshotted with the index and
//    caught up the same way. Once a collection holds projection_fit_after
//    vectors the background thread fits PCA (RefitProjection does it on
//    demand) and swaps in a space of reprojected points.
//
// Thread-safety: thread-safe. Searches run in parallel with each other and
// with writes; index changes are serialised per collection.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"
#include "index/index_registry.h"
#include "index/spatial/spatial_index.h"
#include "index/vector_index.h"
#include "server/engine/common/response_budget.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

class CollectionSpace;

struct CollectionSpec {
  std::string embedding_type;
  uint64_t model_id = 0;
  uint32_t dimension = 0;  // 0 in AddEmbeddings' create spec: the first vector's
  index::Metric metric = index::Metric::kCosine;
  std::string index_kind = "hnsw";
  index::IndexParams params;
  // Spatial index kind of the projected points (index/spatial); empty =
  // "rtree" (and, in AddEmbeddings' create, "whatever the collection has").
  std::string spatial_kind;
};

struct SnapshotInfo {
  uint64_t watermark = 0;   // highest embedding id in the newest snapshot
  int64_t saved_at_us = 0;  // 0 = never saved by this process or found on disk
  bool loaded_from_snapshot = false;
  uint64_t replayed_at_start = 0;  // rows added on top of the snapshot at start
  uint64_t removed_at_start = 0;   // snapshot rows deleted since, removed at start
  uint64_t changes_since_snapshot = 0;
};

struct CollectionInfo {
  storage::CollectionRecord record;
  storage::ProjectionRecord projection;
  uint64_t points = 0;  // embeddings with a projected point
  uint64_t vector_count = 0;
  uint64_t deleted_count = 0;  // marked deleted in the index, awaiting rebuild
  uint64_t memory_bytes = 0;
  SnapshotInfo snapshot;
};

struct EmbeddingInput {
  uint64_t atom_id = 0;
  std::vector<float> vector;  // the real dimension (padding already removed)
  std::string metadata;       // JSON object text or empty
  bool uses_max_dimension_padding = false;
};

struct AddSummary {
  std::vector<uint64_t> embedding_ids;  // in input order
  bool collection_created = false;
  uint64_t replaced = 0;  // inputs that replaced an atom's previous embedding
};

struct SearchFilter {
  std::string modality;     // empty = any
  std::string subtype;      // empty = any
  std::string source_type;  // empty = any
  bool active_only = false;
  std::optional<int64_t> created_after_us;   // inclusive
  std::optional<int64_t> created_before_us;  // exclusive
  // Top-level metadata keys: a JSON string value compares as text, any other
  // value as its compact JSON text ("3", "true", "[1,2]").
  std::vector<std::pair<std::string, std::string>> metadata_equals;
  bool empty() const;
};

struct SearchQuery {
  std::string collection;
  std::vector<float> vector;  // or:
  uint64_t atom_id = 0;       // search with this atom's embedding; the atom itself is left out
  size_t k = 10;
  size_t ef = 0;       // 0 = the collection's ef_search
  bool exact = false;  // force an exact scan
  SearchFilter filter;
  bool with_canonical_text = false;
  bool with_metadata = false;
};

enum class SearchPath {
  kAnn,            // the ANN index alone
  kAnnPostFilter,  // ANN candidates, widened, then filtered
  kExact,          // exact scan of every vector
  kExactFiltered,  // exact scan of the rows matching the filter
};
const char* SearchPathName(SearchPath path);

struct SearchHit {
  uint64_t atom_id = 0;
  uint64_t embedding_id = 0;
  float distance = 0;
  std::string canonical_text;
  std::string metadata;
};

struct SearchResult {
  std::vector<SearchHit> hits;  // nearest first
  SearchPath path = SearchPath::kAnn;
  uint64_t candidates_examined = 0;
};

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

// Progress of EmbeddingEngine::Load, for start-up reporting. Both callbacks
// are optional and run on the loading thread.
struct LoadObserver {
  // Before a collection's replay (done = 0) and after each chunk of it: rows
  // added to its index so far, of total to add. Called only for collections
  // with rows to add.
  std::function<void(const std::string& collection, uint64_t done, uint64_t total)> progress;
  // Polled between chunks; true stops Load with Aborted.
  std::function<bool()> cancelled;
};

// What Load did, summed over collections.
struct LoadTotals {
  uint64_t collections = 0;
  uint64_t replayed = 0;     // rows added on top of the snapshots
  uint64_t removed = 0;      // snapshot rows deleted since, removed
  uint64_t snapshotted = 0;  // collections snapshotted right after their replay
};

struct RefitOptions {
  std::string kind = "pca";    // "pca" or "random"
  size_t sample_size = 10000;  // rows to fit on (every row when fewer)
  double coarse_cell = 0;      // 0 = a quarter of the fitted mean scale
  uint64_t seed = 0;           // 0 = the collection id
};

struct RefitSummary {
  storage::ProjectionRecord projection;
  uint64_t points = 0;       // embeddings with a point after the refit
  uint64_t reprojected = 0;  // points computed by the refit
};

enum class SpatialSpace { kFine, kCoarse };

struct SpatialQueryInput {
  std::string collection;
  SpatialSpace space = SpatialSpace::kFine;
  enum class Shape { kRadius, kBox, kNearest } shape = Shape::kRadius;
  index::Point3 center;    // radius, nearest
  double radius = 0;       // radius
  index::Point3 min, max;  // box
  size_t k = 0;            // nearest
  size_t limit = 0;        // radius, box: 0 = no limit
};

struct SpatialQueryHit {
  uint64_t atom_id = 0;
  uint64_t embedding_id = 0;
  index::Point3 point;
  double distance = 0;
};

struct SpatialQueryResult {
  std::vector<SpatialQueryHit> hits;  // nearest first
  bool truncated = false;             // more matched than limit
};

// The embedding whose projected point is nearest, for spatial matching.
struct PointMatch {
  uint64_t atom_id = 0;
  uint64_t embedding_id = 0;
  double distance = 0;
};

struct HybridSearchQuery {
  std::string collection;
  std::vector<float> vector;  // or:
  uint64_t atom_id = 0;       // this atom's embedding; the atom itself is left out
  size_t k = 10;
  std::optional<index::Point3> center;  // unset = the query's projection
  std::optional<double> radius;         // exactly one of radius and
  std::optional<double> keep_fraction;  // keep_fraction
  bool coarse_first = false;
  // Also take the ANN index's nearest as candidates (ef of them; 0 = the
  // collection's ef_search).
  bool with_ann = false;
  size_t ef = 0;
  SearchFilter filter;
  bool report_recall = false;
  bool with_canonical_text = false;
  bool with_metadata = false;
};

struct HybridSearchResult {
  std::vector<SearchHit> hits;  // nearest first
  uint64_t candidates = 0;
  uint64_t ann_candidates = 0;
  double radius = 0;
  index::Point3 center;
  std::optional<double> recall;
  uint64_t projection_version = 0;
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

  // --- spatial (embedding_spatial.cc) ---
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

  // For ingest with an embedding (server/engine/dedup_matcher.h), inside the
  // caller's write transaction: stores input in the existing collection as
  // AddEmbeddings does (replacing the atom's previous embedding there); the
  // index follows when txn commits. NotFound naming `field`.collection when
  // there is no such collection, InvalidArgument naming `field`.vector on a
  // dimension mismatch. REQUIRES: input.atom_id exists in txn. Defined in
  // embedding_ingest.cc.
  Status PutEmbeddingInTxn(storage::WriteTxn& txn, const std::string& field,
                           const std::string& collection, const EmbeddingInput& input);

  struct Collection;

 private:
  EmbeddingEngine(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
                  EmbeddingEngineOptions options, const index::IndexRegistry& registry);

  struct Change {
    bool add = true;
    uint64_t label = 0;
    std::vector<float> vector;
  };

  struct ReconcileCounts {
    uint64_t added = 0;      // vectors added to the index
    uint64_t removed = 0;    // index labels without a row, removed
    uint64_t projected = 0;  // points added to the space
    uint64_t max_seen = 0;   // highest embedding id of the collection
  };
  // The query vector of a search: `vector`, or the stored embedding of
  // atom_id (then *exclude_atom / *exclude_label name it).
  struct QuerySource {
    std::vector<float> vector;
    uint64_t exclude_atom = 0;
    uint64_t exclude_label = 0;
  };

  Status LoadCollection(const storage::CollectionRecord& record, const LoadObserver& observer);
  // Brings index and space (either may be null) in line with the
  // collection's rows in txn: adds rows they lack (reading their vectors;
  // the index gets them in chunks, each inserted by replay_threads threads),
  // removes labels that have no row. observer (may be null) hears the
  // index's progress and may cancel between chunks.
  Status Reconcile(storage::Txn& txn, const Collection& c, index::VectorIndex* index,
                   CollectionSpace* space, ReconcileCounts* counts,
                   const LoadObserver* observer = nullptr);
  // The collection's space from its stored projection (or the default),
  // empty of points.
  Result<std::unique_ptr<CollectionSpace>> MakeSpace(storage::Txn& txn,
                                                     const storage::CollectionRecord& record);
  Result<QuerySource> ResolveQuery(storage::Txn& txn, const Collection& c,
                                   const std::vector<float>& vector, uint64_t atom_id);
  // Charges each hit to the budget (when set) and fills what was asked for.
  Status FillAtomFields(storage::Txn& txn, std::vector<SearchHit>* hits, bool canonical_text,
                        bool metadata, ResponseBudget* budget);
  Status RefitCollection(Collection& c, const RefitOptions& options, RefitSummary* summary);
  // The collection is still on its unfitted projection and has
  // projection_fit_after points.
  bool WantsFit(const Collection& c) const;
  std::shared_ptr<Collection> Find(const std::string& name) const;
  std::shared_ptr<Collection> FindById(uint64_t id) const;
  Result<std::shared_ptr<Collection>> Require(const std::string& name) const;
  CollectionInfo Info(Collection& c) const;

  // Inside a write: creates the collection rows and registers the hook that
  // makes it visible.
  Result<storage::CollectionRecord> InsertCollection(storage::WriteTxn& txn,
                                                     const std::string& name,
                                                     const CollectionSpec& spec);
  void Apply(uint64_t collection_id, const std::vector<Change>& changes);
  Status SnapshotCollection(Collection& c);
  Status RebuildCollection(Collection& c);
  std::string SnapshotDir(uint64_t collection_id) const;
  void BackgroundLoop();

  storage::Env& env_;
  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
  const EmbeddingEngineOptions options_;
  const index::IndexRegistry& registry_;

  mutable std::shared_mutex mu_;
  std::map<uint64_t, std::shared_ptr<Collection>> by_id_;  // GUARDED_BY(mu_)
  std::map<std::string, uint64_t> by_name_;                // GUARDED_BY(mu_)

  LoadTotals load_totals_;  // written by Load only, before any reader

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stopping_ = false;      // GUARDED_BY(bg_mu_)
  bool work_pending_ = false;  // GUARDED_BY(bg_mu_): a rebuild or snapshot is due
  bool stopped_ = false;       // GUARDED_BY(bg_mu_)
  std::thread background_;
};

// Index spec of a stored collection.
index::IndexSpec SpecOf(const storage::CollectionRecord& record);

}  // namespace hartonomous::engine
