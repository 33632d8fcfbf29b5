// StatusReport: what the status page (GET /status, GET /status.json on the
// metrics port) shows -- the daemon's state, its storage, deduplication
// savings, collections, models, inference logs and recent RPC rates -- read
// at request time from the same sources as /metrics and GetStats.
//
// StatusCollector::Collect reads each part in its own read transaction; a
// part that cannot be read is left empty and named in `unavailable`, so the
// page still shows the others. Collections are listed once the indexes are
// loaded (during start-up they are being built). Models: the first
// kMaxModelRows by name; model_count is all of them.
//
// Thread-safety: Collect is thread-safe (the engines and the rate window
// are).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "server/metrics/rpc_rates.h"
#include "server/metrics/server_metrics.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {
class AtomEngine;
class EmbeddingEngine;
class ModelEngine;
}  // namespace hartonomous::engine

namespace hartonomous::metrics {

struct ModalityRow {
  std::string modality;
  uint64_t atoms = 0;  // active unique atoms
  uint64_t references = 0;
  uint64_t unique_bytes = 0;   // content bytes, each atom once
  uint64_t logical_bytes = 0;  // content bytes as ingested (size x references)
  uint64_t compressed_away_bytes = 0;
};

struct CollectionRow {
  std::string name;
  std::string index_kind;  // "hnsw", "flat"
  uint32_t dimension = 0;
  std::string metric;
  uint64_t vectors = 0;
  uint64_t deleted = 0;
  uint64_t memory_bytes = 0;
};

struct ModelRow {
  std::string name;
  std::string model_type;
  std::string architecture;
  uint32_t layers = 0;
  uint64_t parameters = 0;
  uint64_t usage_count = 0;
};

struct StatusReport {
  std::string version;
  std::string state;         // "starting", "serving", "degraded", "stopping"
  std::string state_reason;  // empty while serving
  int64_t generated_at_us = 0;
  uint64_t uptime_seconds = 0;

  uint64_t map_size_bytes = 0;
  uint64_t data_file_bytes = 0;  // LMDB pages up to the high-water mark
  uint64_t free_bytes = 0;       // free pages inside the data file
  uint64_t used_bytes = 0;       // data_file_bytes - free_bytes

  std::vector<ModalityRow> modalities;
  ModalityRow atoms_total;         // modality "all"
  uint64_t dedup_saved_bytes = 0;  // logical - unique
  // used_bytes / atoms_total.logical_bytes: the disk each ingested byte
  // costs, everything included (indexes, relations, models); 0 with no atom.
  double disk_per_logical_byte = 0;

  bool collections_loaded = false;
  std::vector<CollectionRow> collections;

  uint64_t model_count = 0;
  uint64_t model_stored_bytes = 0;   // tensor atoms, each once
  uint64_t model_logical_bytes = 0;  // tensor bytes as imported
  std::vector<ModelRow> models;      // the first kMaxModelRows by name

  uint64_t inference_logs = 0;

  RpcRates rpc;

  std::vector<std::string> unavailable;  // parts that could not be read, with why
};

class StatusCollector {
 public:
  static constexpr int kMaxModelRows = 50;
  // The daemon's state and, when not serving, why.
  using StateSource = std::function<std::pair<std::string, std::string>()>;

  // REQUIRES: everything outlives the collector. rpc_window_us: the
  // interval recent RPC rates are measured over.
  StatusCollector(storage::Env& env, const storage::Tables& tables,
                  const storage::WriteBatcher& writer, engine::AtomEngine& atoms,
                  engine::EmbeddingEngine& embeddings, engine::ModelEngine& models,
                  const ServerMetrics& metrics, int64_t started_at_us, StateSource state,
                  std::function<bool()> indexes_loaded, int64_t rpc_window_us = 60'000'000)
      : env_(env),
        tables_(tables),
        writer_(writer),
        atoms_(atoms),
        embeddings_(embeddings),
        models_(models),
        metrics_(metrics),
        started_at_us_(started_at_us),
        state_(std::move(state)),
        indexes_loaded_(std::move(indexes_loaded)),
        rates_(started_at_us, rpc_window_us) {}

  StatusReport Collect();

 private:
  storage::Env& env_;
  const storage::Tables& tables_;
  const storage::WriteBatcher& writer_;
  engine::AtomEngine& atoms_;
  engine::EmbeddingEngine& embeddings_;
  engine::ModelEngine& models_;
  const ServerMetrics& metrics_;
  const int64_t started_at_us_;
  const StateSource state_;
  const std::function<bool()> indexes_loaded_;
  RpcRateWindow rates_;
};

// The report as a JSON object (GET /status.json); field names as in the
// structs above. Documented in docs/operations.md.
std::string StatusJson(const StatusReport& report);

}  // namespace hartonomous::metrics
