// EmbeddingWriter: every write of embedding rows, and the one place their
// changes reach the in-memory indexes.
//
// Rows are written inside a write transaction (EmbeddingTable keeps
// "atom_embeddings" and "embeddings_by_seq" in step) by one function,
// WriteRow, whichever path they come by: AddEmbeddings (a batch through the
// WriteBatcher, creating the collection when asked) or an atom ingested
// with an embedding attachment (PutInTxn, inside the ingest's transaction).
// Index and spatial points follow the commits, in commit order, and before
// the write is acknowledged: an acknowledged embedding is searchable.
// Each commit's changes to a collection join the collection's queue on the
// writer thread (a WriteTxn::OnCommit hook). AddEmbeddings then applies the
// queue, up to its own changes, on its caller's thread, so that the writer
// commits other requests meanwhile; its consecutive adds enter the index in
// batches linked by every core (VectorIndex::AddBatch). Other writes (an
// atom's attached embedding, deletes) apply the queue up to their changes on
// the writer thread, before their acknowledgement, as before.
//
// Thread-safety: thread-safe. Writes run on the WriteBatcher's thread;
// Apply takes the collection's apply lock, so changes reach each index in
// commit order.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "server/engine/vectors/collection_registry.h"
#include "server/engine/vectors/index_maintainer.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/sequence.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

struct EmbeddingInput {
  uint64_t atom_id = 0;
  std::vector<float> vector;  // the real dimension (padding already removed)
  std::string metadata;       // JSON object text or empty
  // The client sent the vector padded to 1998 components; stored with the
  // row (EmbeddingRecord.uses_max_dimension_padding).
  bool uses_max_dimension_padding = false;
};

struct AddSummary {
  std::vector<uint64_t> embedding_ids;  // in input order
  bool collection_created = false;
  uint64_t replaced = 0;  // inputs that replaced an atom's previous embedding
};

class EmbeddingWriter {
 public:
  // REQUIRES: every argument outlives this object and the commits of the
  // transactions it wrote in.
  EmbeddingWriter(const storage::Tables& tables, storage::WriteBatcher& writer,
                  CollectionRegistry& collections, IndexMaintainer& maintainer);
  EmbeddingWriter(const EmbeddingWriter&) = delete;
  EmbeddingWriter& operator=(const EmbeddingWriter&) = delete;

  // EmbeddingEngine::AddEmbeddings: every input or none, in one transaction.
  Result<AddSummary> Add(const std::string& collection, const std::optional<CollectionSpec>& create,
                         std::vector<EmbeddingInput> inputs);
  // EmbeddingEngine::PutEmbeddingInTxn: one input in an existing collection,
  // inside the caller's transaction. NotFound naming `field`.collection.
  Status PutInTxn(storage::WriteTxn& txn, const std::string& field, const std::string& collection,
                  const EmbeddingInput& input);
  // The atom's row in the collection; NotFound naming collection or atom_id.
  Status Delete(const std::string& collection, uint64_t atom_id);
  // Delete without waiting: done receives its Status on the writer thread
  // after the commit (short, must not block).
  void DeleteAsync(std::string collection, uint64_t atom_id, std::function<void(Status)> done);
  // Every row of the atom, inside the caller's transaction; returns how many.
  Result<uint64_t> RemoveAtom(storage::WriteTxn& txn, uint64_t atom_id);

  // A change to a collection's index and space, applied on commit.
  struct Change {
    bool add = true;
    uint64_t label = 0;  // embedding id
    std::vector<float> vector;
  };
  struct Written {
    uint64_t embedding_id = 0;
    bool replaced = false;  // the atom had a row in the collection
  };
  // The one row write. Checks input against collection (dimension:
  // InvalidArgument naming `field`.vector; the atom exists in txn: NotFound
  // naming `field`.atom_id), stores its row (id from ids, created_at now)
  // in place of the atom's previous row in the collection, and appends the
  // index changes to *changes. REQUIRES: inside txn; ids is txn's
  // embedding id sequence, flushed before txn commits.
  Result<Written> WriteRow(storage::WriteTxn& txn, storage::Sequence& ids,
                           const storage::CollectionRecord& collection, const std::string& field,
                           const EmbeddingInput& input, int64_t now, std::vector<Change>* changes);

 private:
  using ChangeSet = std::shared_ptr<const std::vector<Change>>;
  // A collection's committed change sets not yet applied, in commit order.
  struct Queue {
    std::deque<std::pair<uint64_t, ChangeSet>> sets;  // (ticket, changes)
    uint64_t next_ticket = 1;
  };
  // Registers, for when txn commits, the queueing of changes (their ticket
  // then lands in the returned cell), and with apply_now their application
  // on the committing thread too.
  std::shared_ptr<std::atomic<uint64_t>> ApplyOnCommit(storage::WriteTxn& txn,
                                                       uint64_t collection_id,
                                                       std::vector<Change> changes,
                                                       bool apply_now = true);
  // Applies the collection's queued change sets in order, through ticket
  // (at once, if another thread is applying them).
  void ApplyThrough(uint64_t collection_id, uint64_t ticket) EXCLUDES(queue_mu_);
  // Brings the collection's index and space in step with committed changes.
  void Apply(Collection& c, const std::vector<Change>& changes) REQUIRES(c.apply_mu);

  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
  CollectionRegistry& collections_;
  IndexMaintainer& maintainer_;
  Mutex queue_mu_;  // taken inside a collection's apply_mu, never around it
  std::map<uint64_t, Queue> queues_ GUARDED_BY(queue_mu_);  // by collection id
};

}  // namespace hartonomous::engine
