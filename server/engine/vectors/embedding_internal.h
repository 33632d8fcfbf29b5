// Internals shared by the files that implement EmbeddingEngine
// (embedding_engine.cc: collections, writes, search, snapshots;
// embedding_spatial.cc: projections, spatial queries, hybrid search).
// Not part of the engine's interface.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "index/vector_index.h"
#include "server/engine/vectors/collection_space.h"
#include "server/engine/vectors/embedding_engine.h"
#include "storage/tables/atom_table.h"
#include "storage/key_codec.h"
#include "storage/records.pb.h"

namespace hartonomous::engine {

struct EmbeddingEngine::Collection {
  storage::CollectionRecord record;
  index::IndexSpec spec;
  // Serialises index changes, snapshots and the rebuild's and refit's swaps,
  // so that changes reach the indexes in commit order.
  std::mutex apply_mu;
  std::mutex snapshot_mu;  // one snapshot at a time
  std::mutex refit_mu;     // one refit at a time
  mutable std::mutex index_mu;
  std::shared_ptr<index::VectorIndex> index;  // GUARDED_BY(index_mu)
  std::shared_ptr<CollectionSpace> space;     // GUARDED_BY(index_mu)
  uint64_t applied_seq = 0;                   // GUARDED_BY(apply_mu)
  SnapshotInfo snapshot;                      // GUARDED_BY(apply_mu)
  std::atomic<uint64_t> changes{0};           // since the last snapshot
  std::atomic<bool> rebuild_wanted{false};
  std::atomic<bool> refit_wanted{false};
  std::atomic<bool> dropped{false};

  std::shared_ptr<index::VectorIndex> CurrentIndex() const {
    std::lock_guard lock(index_mu);
    return index;
  }
  void SetIndex(std::shared_ptr<index::VectorIndex> next) {
    std::lock_guard lock(index_mu);
    index = std::move(next);
  }
  std::shared_ptr<CollectionSpace> CurrentSpace() const {
    std::lock_guard lock(index_mu);
    return space;
  }
  void SetSpace(std::shared_ptr<CollectionSpace> next) {
    std::lock_guard lock(index_mu);
    space = std::move(next);
  }
};

namespace embedding_internal {

// "atom_embeddings" key: be64(atom_id) embedding_type NUL be64(model_id).
inline std::string EmbeddingKey(uint64_t atom_id, const std::string& type, uint64_t model_id) {
  std::string key = storage::Be64Key(atom_id);
  key.append(type);
  key.push_back('\0');
  storage::AppendBe64(&key, model_id);
  return key;
}

// "embeddings_by_seq" key: be64(collection_id) be64(embedding_id).
inline std::string SeqKey(uint64_t collection_id, uint64_t embedding_id) {
  std::string key = storage::Be64Key(collection_id);
  storage::AppendBe64(&key, embedding_id);
  return key;
}

inline std::vector<float> VectorOf(const storage::EmbeddingRecord& r) {
  std::vector<float> v(r.vector().size() / sizeof(float));
  std::memcpy(v.data(), r.vector().data(), v.size() * sizeof(float));
  return v;
}

template <typename Message>
Status Parse(std::string_view bytes, Message* m, const char* table) {
  if (!m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::DataLoss(std::string(table) + ": corrupt record");
  }
  return Status::Ok();
}

// Evaluates a SearchFilter against atoms, reading each atom once.
class AtomMatcher {
 public:
  AtomMatcher(storage::Txn& txn, const storage::Tables& tables, const SearchFilter& filter)
      : txn_(txn), atoms_(tables), filter_(filter) {}
  Result<bool> Matches(uint64_t atom_id);

 private:
  bool Check(const storage::AtomRecord& a) const;

  storage::Txn& txn_;
  storage::AtomTable atoms_;
  const SearchFilter& filter_;
  std::unordered_map<uint64_t, bool> cache_;
};

}  // namespace embedding_internal
}  // namespace hartonomous::engine
