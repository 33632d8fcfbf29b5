// CollectionTable: vector collections, "collections": be64(collection_id) ->
// CollectionRecord, unique by name through "collection_names" (a NamedTable;
// ids from the "collection_id" sequence), and each collection's fitted 3D
// projection, "projections": be64(collection_id) -> ProjectionRecord. A
// collection's embedding rows are EmbeddingTable's
// (storage/tables/embedding_table.h).
//
// Errors: as NamedTable and IdTable: absent keys are nullopt (the caller
// names the request field), a record that does not parse is DataLoss
// "<table>: record <id> is corrupt".
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/id_table.h"
#include "storage/tables/named_table.h"

namespace hartonomous::storage {

class CollectionTable : public NamedTable<CollectionRecord> {
 public:
  explicit CollectionTable(const Tables& t);

  // The collection that holds (embedding_type, model_id); nullopt when none
  // does. A scan of every collection (there are few).
  Result<std::optional<CollectionRecord>> FindByEmbedding(Txn& txn, std::string_view embedding_type,
                                                          uint64_t model_id) const;
  // Every collection, in id order.
  Result<std::vector<CollectionRecord>> All(Txn& txn) const;

  // The collection's fitted projection; nullopt when it was never fitted
  // (it is on its seeded random projection).
  Result<std::optional<ProjectionRecord>> FindProjection(Txn& txn, uint64_t collection_id) const;
  // Stores the projection under projection.collection_id.
  Status PutProjection(WriteTxn& txn, const ProjectionRecord& projection) const;

  // Deletes the record, its name and its projection. The collection's
  // embedding rows are removed by EmbeddingTable::RemoveCollection.
  Status Drop(WriteTxn& txn, const CollectionRecord& record) const;

 private:
  IdTable<ProjectionRecord> projections_;
};

}  // namespace hartonomous::storage
