#include "storage/tables/collection_table.h"

#include <utility>

namespace hartonomous::storage {

CollectionTable::CollectionTable(const Tables& t)
    : NamedTable<CollectionRecord>(
          {t.collections, "collections", t.collection_names, "collection_names", t.sequences,
           "collection_id", "collection", "name"},
          {&CollectionRecord::collection_id, &CollectionRecord::set_collection_id,
           &CollectionRecord::name}),
      projections_(t.projections, "projections") {}

Result<std::optional<CollectionRecord>> CollectionTable::FindByEmbedding(
    Txn& txn, std::string_view embedding_type, uint64_t model_id) const {
  std::optional<CollectionRecord> found;
  HT_RETURN_IF_ERROR(records().ScanAfter(txn, 0, [&](uint64_t, CollectionRecord&& record) {
    if (record.embedding_type() == embedding_type && record.model_id() == model_id) {
      found = std::move(record);
      return false;
    }
    return true;
  }));
  return found;
}

Result<std::vector<CollectionRecord>> CollectionTable::All(Txn& txn) const {
  std::vector<CollectionRecord> out;
  HT_RETURN_IF_ERROR(records().ScanAfter(txn, 0, [&](uint64_t, CollectionRecord&& record) {
    out.push_back(std::move(record));
    return true;
  }));
  return out;
}

Result<std::optional<ProjectionRecord>> CollectionTable::FindProjection(
    Txn& txn, uint64_t collection_id) const {
  return projections_.Find(txn, collection_id);
}

Status CollectionTable::PutProjection(WriteTxn& txn, const ProjectionRecord& projection) const {
  return projections_.Put(txn, projection.collection_id(), projection);
}

Status CollectionTable::Drop(WriteTxn& txn, const CollectionRecord& record) const {
  HT_RETURN_IF_ERROR(Remove(txn, record));
  return projections_.Remove(txn, record.collection_id()).status();
}

}  // namespace hartonomous::storage
