// StateMetrics: the collector of the metrics that describe the stored state,
// read at each scrape (server/metrics/server_metrics.h):
//   hartonomous_lmdb_map_size_bytes, _lmdb_used_bytes, _lmdb_free_bytes,
//   _lmdb_page_size_bytes, _lmdb_map_resizes       gauges
//   hartonomous_table_entries{table}               gauge
//   hartonomous_group_commits_total, _write_requests_total  counters
//   hartonomous_collection_vectors{collection}, _collection_memory_bytes,
//   _collection_deleted_vectors                    gauges
//   hartonomous_search_stopped_total{reason="deadline|cancelled"}  counter
//                                                  (searches stopped early)
//   hartonomous_atoms{modality}, _atom_references, _atom_unique_bytes,
//   _atom_logical_bytes, _atom_compressed_away_bytes  gauges (dedup)
//   hartonomous_dedup_saved_bytes                  gauge (logical - unique)
//   hartonomous_model_bytes{kind="stored|logical"} gauge (tensor atoms)
//   hartonomous_inference_logs                     gauge (logged inferences;
//                                                  its rate is the log rate)
//   hartonomous_up_seconds                         gauge
//   hartonomous_disk_full                          gauge (1 while writes fail
//                                                  for lack of space)
// The collection families are left out until indexes_loaded() (during
// start-up the indexes are still being built). Each family is read in its own read transaction; one
// that fails is left out of the scrape and logged at debug.
//
// Thread-safety: Collect is thread-safe (the engines are).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {
class AtomEngine;
class EmbeddingEngine;
}  // namespace hartonomous::engine

namespace hartonomous::metrics {

class StateMetrics {
 public:
  // REQUIRES: everything outlives this object.
  StateMetrics(storage::Env& env, const storage::Tables& tables,
               const storage::WriteBatcher& writer, engine::AtomEngine& atoms,
               engine::EmbeddingEngine& embeddings, int64_t started_at_us,
               std::function<bool()> indexes_loaded)
      : env_(env),
        tables_(tables),
        writer_(writer),
        atoms_(atoms),
        embeddings_(embeddings),
        started_at_us_(started_at_us),
        indexes_loaded_(std::move(indexes_loaded)) {}

  void Collect(std::string* out) const;

 private:
  storage::Env& env_;
  const storage::Tables& tables_;
  const storage::WriteBatcher& writer_;
  engine::AtomEngine& atoms_;
  engine::EmbeddingEngine& embeddings_;
  const int64_t started_at_us_;
  const std::function<bool()> indexes_loaded_;
};

}  // namespace hartonomous::metrics
