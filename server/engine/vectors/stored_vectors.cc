#include "server/engine/vectors/stored_vectors.h"

#include <cstring>
#include <string>

#include "storage/tables/embedding_table.h"

namespace hartonomous::engine {

StoredVectors::StoredVectors(storage::Env& env, const storage::Tables& tables,
                             uint64_t collection_id)
    : env_(env), tables_(tables), collection_id_(collection_id) {}

Status StoredVectors::Read(const std::vector<uint64_t>& labels, size_t dim, float* out,
                           std::vector<bool>* found) const {
  found->assign(labels.size(), false);
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  const storage::EmbeddingTable rows(tables_);
  for (size_t i = 0; i < labels.size(); ++i) {
    HT_ASSIGN_OR_RETURN(std::optional<std::string_view> bytes,
                        rows.VectorBytes(txn, collection_id_, labels[i]));
    if (!bytes) continue;
    if (bytes->size() != dim * sizeof(float)) {
      return Status::DataLoss("atom_embeddings: embedding " + std::to_string(labels[i]) +
                              " has the wrong dimension");
    }
    std::memcpy(out + i * dim, bytes->data(), bytes->size());
    (*found)[i] = true;
  }
  return Status::Ok();
}

}  // namespace hartonomous::engine
