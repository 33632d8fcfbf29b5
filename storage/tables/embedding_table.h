// EmbeddingTable: the embedding rows (the design document's AtomEmbedding),
// in two tables kept in step:
//  - "atom_embeddings": be64(atom_id) embedding_type 0x00 be64(model_id) ->
//    EmbeddingRecord. At most one row per (atom, embedding type, model); a
//    collection owns one (embedding type, model) pair, so this is also "the
//    atom's row in that collection". The key starts with the atom id: an
//    atom's rows are purged with it (Tables::atom_owned).
//  - "embeddings_by_seq": be64(collection_id) be64(embedding_id) -> the row's
//    "atom_embeddings" key. Embedding ids come from the "embedding_id"
//    sequence (Ids), so this is each collection's rows in write order: an
//    index snapshot at watermark W is caught up by Scan(collection, W).
// Callers speak in ids and records; the keys are encoded only here.
//
// Errors: absent rows are nullopt / false (the caller names the request
// field); a row that does not parse is DataLoss "atom_embeddings: record
// atom <a> type '<t>' model <m> is corrupt"; an "embeddings_by_seq" entry
// whose row is missing is DataLoss "embeddings_by_seq: embedding <id> has no
// row"; a malformed entry is DataLoss "embeddings_by_seq: entry <c>/<id> is
// corrupt".
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/sequence.h"

namespace hartonomous::storage {

// One "embeddings_by_seq" entry: a row of a collection, named by its
// embedding id. EmbeddingTable::Read reads the row itself.
class EmbeddingRef {
 public:
  uint64_t embedding_id() const { return embedding_id_; }
  uint64_t atom_id() const { return atom_id_; }

 private:
  friend class EmbeddingTable;
  uint64_t embedding_id_ = 0;
  uint64_t atom_id_ = 0;
  std::string row_key_;
};

class EmbeddingTable {
 public:
  explicit EmbeddingTable(const Tables& t);

  // The sequence new rows take their embedding id from ("embedding_id").
  // REQUIRES: txn outlives the Sequence; Flush it before txn commits.
  Sequence Ids(WriteTxn& txn) const;

  // The atom's row of (embedding_type, model_id); nullopt when absent.
  Result<std::optional<EmbeddingRecord>> Find(Txn& txn, uint64_t atom_id,
                                              std::string_view embedding_type,
                                              uint64_t model_id) const;
  // Every row of the atom (in all collections), in key order.
  Result<std::vector<EmbeddingRecord>> OfAtom(Txn& txn, uint64_t atom_id) const;
  // The atom of a collection's embedding; nullopt when that row is gone.
  Result<std::optional<uint64_t>> AtomOf(Txn& txn, uint64_t collection_id,
                                         uint64_t embedding_id) const;
  // Calls visit for each row of the collection with an embedding id above
  // `after`, in embedding id (write) order; a visit that fails stops the
  // scan with its status. REQUIRES: visit does not write to these tables.
  Status Scan(Txn& txn, uint64_t collection_id, uint64_t after,
              const std::function<Status(const EmbeddingRef&)>& visit) const;
  // Calls visit for every "atom_embeddings" row of every atom, in key
  // order (a visit that fails stops the scan with its status).
  Status ForEachRow(Txn& txn, const std::function<Status(const EmbeddingRecord&)>& visit) const;
  // The row an entry names (DataLoss when it is missing or corrupt).
  Result<EmbeddingRecord> Read(Txn& txn, const EmbeddingRef& ref) const;
  // The vector bytes (EmbeddingRecord.vector) of a collection's embedding,
  // viewed in place (valid while txn is open) without parsing the rest of
  // the row; nullopt when the row is gone. DataLoss as for Read.
  Result<std::optional<std::string_view>> VectorBytes(Txn& txn, uint64_t collection_id,
                                                      uint64_t embedding_id) const;
  // VectorBytes of several embeddings: (*out)[i] for embedding_ids[i], pass
  // by pass (every entry, then every row, then every vector), so that each
  // pass runs over the code and pages the previous one left in cache. The
  // first error stops it, as for VectorBytes.
  Status VectorBytes(Txn& txn, uint64_t collection_id, const std::vector<uint64_t>& embedding_ids,
                     std::vector<std::optional<std::string_view>>* out) const;

  // Stores row under (atom_id, embedding_type, model_id) and its entry under
  // (collection_id, embedding_id). A row already stored under that key is
  // replaced and its entry removed; it is returned. REQUIRES:
  // row.embedding_id is new (from Ids()).
  Result<std::optional<EmbeddingRecord>> Put(WriteTxn& txn, const EmbeddingRecord& row) const;
  // Deletes the row and its entry; false when the row was not stored.
  Result<bool> Remove(WriteTxn& txn, const EmbeddingRecord& row) const;
  // Deletes every row of the atom and their entries; returns those rows.
  Result<std::vector<EmbeddingRecord>> RemoveAtom(WriteTxn& txn, uint64_t atom_id) const;
  // Deletes every row of the collection and their entries; returns how many.
  Result<uint64_t> RemoveCollection(WriteTxn& txn, uint64_t collection_id) const;

  // EmbeddingRecord.vector: the components, little-endian float32, at the
  // real dimension (never padded).
  static std::vector<float> VectorOf(const EmbeddingRecord& row);
  static void SetVector(EmbeddingRecord* row, const std::vector<float>& vector);

 private:
  const Tables& t_;
};

}  // namespace hartonomous::storage
