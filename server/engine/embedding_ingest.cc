// EmbeddingEngine::PutEmbeddingInTxn: one embedding written inside a
// caller's write transaction (ingest with an embedding stores the atom and
// its embedding together). The key layouts are those of storage/schema.h
// ("atom_embeddings", "embeddings_by_seq"), as in embedding_engine.cc.
#include <memory>

#include "server/engine/atom_engine.h"
#include "server/engine/embedding_engine.h"
#include "storage/key_codec.h"
#include "storage/sequence.h"

namespace hartonomous::engine {

namespace {

std::string EmbeddingRowKey(uint64_t atom_id, const std::string& type, uint64_t model_id) {
  std::string key = storage::Be64Key(atom_id);
  key.append(type);
  key.push_back('\0');
  storage::AppendBe64(&key, model_id);
  return key;
}

std::string SeqRowKey(uint64_t collection_id, uint64_t embedding_id) {
  std::string key = storage::Be64Key(collection_id);
  storage::AppendBe64(&key, embedding_id);
  return key;
}

}  // namespace

Status EmbeddingEngine::PutEmbeddingInTxn(storage::WriteTxn& txn, const std::string& field,
                                          const std::string& collection,
                                          const EmbeddingInput& input) {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables_.collection_names, collection, &value));
  if (!found) {
    return Status::NotFound(field + ".collection: no collection named '" + collection + "'");
  }
  const std::string id_key(value);
  HT_ASSIGN_OR_RETURN(bool have, txn.Get(tables_.collections, id_key, &value));
  if (!have) return Status::DataLoss("collection_names: '" + collection + "' has no record");
  storage::CollectionRecord coll;
  if (!coll.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::DataLoss("collections: corrupt record");
  }
  if (input.vector.size() != coll.dimension()) {
    return Status::InvalidArgument(field + ".vector: " + std::to_string(input.vector.size()) +
                                   " components but collection '" + collection +
                                   "' has dimension " + std::to_string(coll.dimension()));
  }
  const uint64_t cid = coll.collection_id();
  std::vector<Change> changes;
  const std::string key = EmbeddingRowKey(input.atom_id, coll.embedding_type(), coll.model_id());
  HT_ASSIGN_OR_RETURN(bool exists, txn.Get(tables_.atom_embeddings, key, &value));
  if (exists) {
    storage::EmbeddingRecord old;
    if (!old.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return Status::DataLoss("atom_embeddings: corrupt record");
    }
    HT_RETURN_IF_ERROR(txn.Del(tables_.embeddings_by_seq, SeqRowKey(cid, old.embedding_id())).status());
    changes.push_back(Change{false, old.embedding_id(), {}});
  }
  storage::Sequence ids(txn, tables_.sequences, "embedding_id");
  HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
  HT_RETURN_IF_ERROR(ids.Flush());
  storage::EmbeddingRecord row;
  row.set_embedding_id(id);
  row.set_atom_id(input.atom_id);
  row.set_model_id(coll.model_id());
  row.set_embedding_type(coll.embedding_type());
  row.set_dimension(coll.dimension());
  row.set_vector(std::string(reinterpret_cast<const char*>(input.vector.data()),
                             input.vector.size() * sizeof(float)));
  row.set_metadata(input.metadata);
  row.set_created_at_us(NowMicros());
  row.set_collection_id(cid);
  HT_RETURN_IF_ERROR(txn.Put(tables_.atom_embeddings, key, row.SerializeAsString()));
  HT_RETURN_IF_ERROR(txn.Put(tables_.embeddings_by_seq, SeqRowKey(cid, id), key));
  changes.push_back(Change{true, id, input.vector});
  txn.OnCommit([this, cid, changes = std::move(changes)] { Apply(cid, changes); });
  return Status::Ok();
}

}  // namespace hartonomous::engine
