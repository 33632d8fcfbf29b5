// StoredVectors: a collection's embedding vectors as stored in LMDB (the
// "atom_embeddings" rows, found through "embeddings_by_seq"), as the
// index::VectorSource that "hnsw_sq8" indexes rerank from.
//
// Each Read is one read transaction (its own snapshot): a row deleted since
// the index last saw it is reported not found. A row whose vector is not
// dim floats is DataLoss naming the embedding.
//
// Thread-safety: thread-safe (read transactions only).
#pragma once

#include <cstdint>
#include <vector>

#include "index/vector_source.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"

namespace hartonomous::engine {

class StoredVectors final : public index::VectorSource {
 public:
  // REQUIRES: env and tables outlive this object.
  StoredVectors(storage::Env& env, const storage::Tables& tables, uint64_t collection_id);
  Status Read(const std::vector<uint64_t>& labels, size_t dim, float* out,
              std::vector<bool>* found) const override;

 private:
  storage::Env& env_;
  const storage::Tables& tables_;
  const uint64_t collection_id_;
};

}  // namespace hartonomous::engine
