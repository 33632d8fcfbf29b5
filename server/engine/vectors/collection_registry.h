// CollectionRegistry: the live vector collections. Each stored collection
// (storage/tables/collection_table.h) is live as one Collection: its record,
// its VectorIndex, its CollectionSpace (projection and spatial points) and
// the locks that order changes to them. The registry maps names and ids to
// them, and creates and deletes collections inside the caller's write
// transaction: the stored rows change with the transaction, the live
// collection appears or leaves from its commit hook (WriteTxn::OnCommit), so
// a collection is visible exactly when its commit is.
//
// Thread-safety: thread-safe. Lookups take a shared lock and return shared
// pointers, so a collection stays usable by whoever holds it after a
// delete (it is then marked dropped).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "index/index_registry.h"
#include "index/vector_index.h"
#include "server/engine/vectors/collection_space.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"

namespace hartonomous::engine {

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

// One live collection. Index and space are swapped whole (rebuild, refit):
// readers take the current one and keep their shared pointer.
//
// Locks, taken in this order: snapshot_mu or refit_mu, then apply_mu, then
// index_mu. record and spec are set before the collection is shared and
// never change. The current index and space are changed (Add, Upsert,
// Remove) only under apply_mu; index_mu guards the pointers, and the
// analysis checks only those, not the objects they point to.
struct Collection {
  storage::CollectionRecord record;
  index::IndexSpec spec;
  // Serialises index changes, snapshots and the rebuild's and refit's swaps,
  // so that changes reach the indexes in commit order.
  Mutex apply_mu;
  Mutex snapshot_mu;  // one snapshot at a time
  Mutex refit_mu;     // one refit at a time
  // Guards the pointers only: held just to read or swap them.
  mutable Mutex index_mu;
  std::shared_ptr<index::VectorIndex> index GUARDED_BY(index_mu);
  std::shared_ptr<CollectionSpace> space GUARDED_BY(index_mu);
  uint64_t applied_seq GUARDED_BY(apply_mu) = 0;  // highest embedding id applied
  SnapshotInfo snapshot GUARDED_BY(apply_mu);
  std::atomic<uint64_t> changes{0};  // since the last snapshot
  std::atomic<bool> rebuild_wanted{false};
  std::atomic<bool> refit_wanted{false};
  std::atomic<bool> dropped{false};

  std::shared_ptr<index::VectorIndex> CurrentIndex() const EXCLUDES(index_mu);
  void SetIndex(std::shared_ptr<index::VectorIndex> next) EXCLUDES(index_mu);
  std::shared_ptr<CollectionSpace> CurrentSpace() const EXCLUDES(index_mu);
  void SetSpace(std::shared_ptr<CollectionSpace> next) EXCLUDES(index_mu);
  CollectionInfo Info() EXCLUDES(apply_mu, index_mu);
};

// Index spec of a stored collection.
index::IndexSpec SpecOf(const storage::CollectionRecord& record);

// Checks an AddEmbeddings create spec against the existing collection:
// InvalidArgument naming create.metric, create.index.kind,
// create.spatial_index, create.dimension or create.embedding_type/model_id
// (the last only when type_given).
Status CheckCompatible(const storage::CollectionRecord& have, const CollectionSpec& want,
                       bool type_given);

class CollectionRegistry {
 public:
  // REQUIRES: env, tables and indexes outlive the registry.
  CollectionRegistry(storage::Env& env, const storage::Tables& tables,
                     const index::IndexRegistry& indexes);
  CollectionRegistry(const CollectionRegistry&) = delete;
  CollectionRegistry& operator=(const CollectionRegistry&) = delete;

  // --- live collections ---
  // nullptr when there is none.
  std::shared_ptr<Collection> Find(const std::string& name) const;
  std::shared_ptr<Collection> FindById(uint64_t id) const;
  // NotFound "collection: no collection named '<name>'".
  Result<std::shared_ptr<Collection>> Require(const std::string& name) const;
  // Name of a live collection; empty when there is none with that id.
  std::string NameOf(uint64_t id) const;
  // Every live collection, in id order / in name order.
  std::vector<std::shared_ptr<Collection>> All() const;
  std::vector<std::shared_ptr<Collection>> AllByName() const;
  // Makes a loaded collection live. REQUIRES: its index and space are set.
  void Add(std::shared_ptr<Collection> collection);

  // SpecOf(record) with the collection's stored vectors (StoredVectors) as
  // its source: the spec its indexes are created and loaded with.
  index::IndexSpec SpecFor(const storage::CollectionRecord& record) const;

  // --- stored collections, inside the caller's transaction ---
  // The index registry's verdict on spec, then InvalidArgument naming
  // spatial_index for an unknown spatial kind.
  Status CheckSpec(const CollectionSpec& spec) const;
  // The stored collection named name; nullopt when there is none.
  Result<std::optional<storage::CollectionRecord>> FindStored(storage::Txn& txn,
                                                              const std::string& name) const;
  // The same; NotFound as Require when there is none.
  Result<storage::CollectionRecord> RequireStored(storage::Txn& txn, const std::string& name) const;
  // Stores a new collection (id from the "collection_id" sequence); it
  // becomes live, with an empty index and its seeded random projection, when
  // txn commits. AlreadyExists naming name, or embedding_type/model_id when
  // another collection holds that pair. REQUIRES: CheckSpec(spec) is OK.
  Result<storage::CollectionRecord> Insert(storage::WriteTxn& txn, const std::string& name,
                                           const CollectionSpec& spec);
  // Deletes the stored collection, its embedding rows and its projection
  // (NotFound as Require). When txn commits the collection leaves the
  // registry, is marked dropped, and on_dropped runs with it.
  Status Remove(storage::WriteTxn& txn, const std::string& name,
                std::function<void(Collection&)> on_dropped);

 private:
  storage::Env& env_;
  const storage::Tables& tables_;
  const index::IndexRegistry& indexes_;

  // Lookups hold it shared, Add and a delete's commit hook exclusively; never
  // held while a collection's own locks are taken.
  mutable SharedMutex mu_;
  std::map<uint64_t, std::shared_ptr<Collection>> by_id_ GUARDED_BY(mu_);
  std::map<std::string, uint64_t> by_name_ GUARDED_BY(mu_);
};

}  // namespace hartonomous::engine
