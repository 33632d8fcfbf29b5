// EmbeddingEngine::PutEmbeddingInTxn: one embedding written inside a
// caller's write transaction (ingest with an embedding stores the atom and
// its embedding together).
#include <memory>

#include "base/clock.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/vectors/embedding_engine.h"
#include "server/engine/vectors/embedding_internal.h"
#include "storage/key_codec.h"
#include "storage/sequence.h"

namespace hartonomous::engine {

using namespace embedding_internal;

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
  HT_RETURN_IF_ERROR(Parse(value, &coll, "collections"));
  if (input.vector.size() != coll.dimension()) {
    return Status::InvalidArgument(field + ".vector: " + std::to_string(input.vector.size()) +
                                   " components but collection '" + collection +
                                   "' has dimension " + std::to_string(coll.dimension()));
  }
  const uint64_t cid = coll.collection_id();
  std::vector<Change> changes;
  const std::string key = EmbeddingKey(input.atom_id, coll.embedding_type(), coll.model_id());
  HT_ASSIGN_OR_RETURN(bool exists, txn.Get(tables_.atom_embeddings, key, &value));
  if (exists) {
    storage::EmbeddingRecord old;
    HT_RETURN_IF_ERROR(Parse(value, &old, "atom_embeddings"));
    HT_RETURN_IF_ERROR(
        txn.Del(tables_.embeddings_by_seq, SeqKey(cid, old.embedding_id())).status());
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
  HT_RETURN_IF_ERROR(txn.Put(tables_.embeddings_by_seq, SeqKey(cid, id), key));
  changes.push_back(Change{true, id, input.vector});
  txn.OnCommit([this, cid, changes = std::move(changes)] { Apply(cid, changes); });
  return Status::Ok();
}

}  // namespace hartonomous::engine
