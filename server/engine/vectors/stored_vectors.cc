#include "server/engine/vectors/stored_vectors.h"

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

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
  std::vector<std::optional<std::string_view>> vectors;
  HT_RETURN_IF_ERROR(rows.VectorBytes(txn, collection_id_, labels, &vectors));
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::optional<std::string_view>& bytes = vectors[i];
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
