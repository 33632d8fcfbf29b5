#include "server/engine/vectors/reconcile.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>
#include <unordered_set>
#include <vector>

#include "storage/tables/embedding_table.h"

namespace hartonomous::engine {
namespace {

// Replays of at least this many rows log their progress.
constexpr uint64_t kReplayLogRows = 1000;

}  // namespace

Status Reconcile(storage::Txn& txn, const storage::Tables& tables,
                 const storage::CollectionRecord& collection, index::VectorIndex* index,
                 CollectionSpace* space, size_t threads, ReconcileCounts* counts,
                 const LoadObserver* observer) {
  const storage::EmbeddingTable rows(tables);
  const uint64_t cid = collection.collection_id();
  const std::string& name = collection.name();
  const size_t dim = collection.dimension();
  // Pass 1 (keys only): the live rows, and how many the index lacks, so
  // that progress can say "n of total".
  std::vector<uint64_t> live_ids;
  uint64_t total = 0;
  HT_RETURN_IF_ERROR(rows.Scan(txn, cid, 0, [&](const storage::EmbeddingRef& ref) {
    live_ids.push_back(ref.embedding_id());
    if (index != nullptr && !index->Contains(ref.embedding_id())) ++total;
    return Status::Ok();
  }));
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const bool report = observer != nullptr && total > 0;
  if (report && observer->progress) observer->progress(name, 0, total);
  if (total >= kReplayLogRows) {
    spdlog::info("collection '{}': replaying {} vectors with {} threads", name, total, threads);
  }
  // Pass 2: read the missing rows; insert them chunk by chunk, each chunk
  // in parallel (every label is new and distinct: ids are never reused and
  // a replaced row has a new id).
  std::vector<uint64_t> labels;
  std::vector<float> vectors;
  auto flush = [&]() -> Status {
    if (labels.empty()) return Status::Ok();
    HT_RETURN_IF_ERROR(index->AddBatch(labels, vectors.data(), threads));
    counts->added += labels.size();
    labels.clear();
    vectors.clear();
    if (report) {
      if (observer->progress) observer->progress(name, counts->added, total);
      if (total >= kReplayLogRows) {
        spdlog::info("collection '{}': replayed {} of {} vectors", name, counts->added, total);
      }
      if (observer->cancelled && observer->cancelled()) {
        return Status::Aborted("collection '" + name + "': loading stopped after " +
                               std::to_string(counts->added) + " of " + std::to_string(total) +
                               " vectors");
      }
    }
    return Status::Ok();
  };
  HT_RETURN_IF_ERROR(rows.Scan(txn, cid, 0, [&](const storage::EmbeddingRef& ref) -> Status {
    const uint64_t id = ref.embedding_id();
    counts->max_seen = std::max(counts->max_seen, id);
    const bool need_vector = index != nullptr && !index->Contains(id);
    const bool need_point = space != nullptr && !space->Contains(id);
    if (!need_vector && !need_point) return Status::Ok();
    HT_ASSIGN_OR_RETURN(storage::EmbeddingRecord row, rows.Read(txn, ref));
    if (row.vector().size() != dim * sizeof(float)) {
      return Status::DataLoss("atom_embeddings: embedding " + std::to_string(id) +
                              " has the wrong dimension");
    }
    const std::vector<float> vector = storage::EmbeddingTable::VectorOf(row);
    if (need_point) {
      HT_RETURN_IF_ERROR(space->Upsert(id, vector.data()));
      ++counts->projected;
    }
    if (need_vector) {
      vectors.insert(vectors.end(), vector.begin(), vector.end());
      labels.push_back(id);
      if (labels.size() == kReplayChunk) HT_RETURN_IF_ERROR(flush());
    }
    return Status::Ok();
  }));
  HT_RETURN_IF_ERROR(flush());
  const std::unordered_set<uint64_t> live(live_ids.begin(), live_ids.end());
  if (index != nullptr) {
    for (uint64_t label : index->Labels()) {
      if (live.count(label) == 0) {
        HT_RETURN_IF_ERROR(index->Remove(label));
        ++counts->removed;
      }
    }
  }
  if (space != nullptr) {
    for (const auto& [label, point] : space->fine().Points()) {
      if (live.count(label) == 0) space->Remove(label);
    }
  }
  return Status::Ok();
}

}  // namespace hartonomous::engine
