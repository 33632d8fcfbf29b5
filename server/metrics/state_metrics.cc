#include "server/metrics/state_metrics.h"

#include <spdlog/spdlog.h>

#include "server/engine/admin/server_stats.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/models/tensor_store.h"
#include "server/engine/vectors/embedding_engine.h"
#include "server/metrics/prometheus_text.h"

namespace hartonomous::metrics {

void StateMetrics::Collect(std::string* out) const {
  auto stats = engine::CollectServerStats(env_, tables_, writer_, started_at_us_);
  if (stats.ok()) {
    AppendGauge(out, "hartonomous_up_seconds", "Seconds since the daemon started.",
                {{{}, static_cast<double>(stats->uptime_seconds)}});
    AppendGauge(out, "hartonomous_lmdb_map_size_bytes", "Current LMDB map size.",
                {{{}, static_cast<double>(stats->map_size_bytes)}});
    AppendGauge(out, "hartonomous_lmdb_used_bytes",
                "LMDB pages in use up to the high-water mark (last page * page size).",
                {{{}, static_cast<double>(stats->data_file_bytes)}});
    AppendGauge(out, "hartonomous_lmdb_free_bytes",
                "Bytes of LMDB's free pages inside the data file.",
                {{{}, static_cast<double>(stats->free_bytes)}});
    AppendGauge(out, "hartonomous_lmdb_map_resizes", "Times the LMDB map grew since start.",
                {{{}, static_cast<double>(stats->map_resizes)}});
    AppendGauge(out, "hartonomous_disk_full",
                "1 while writes fail because the data dir's disk is full (reads are served), "
                "0 once a write succeeds.",
                {{{}, stats->degraded_reason.empty() ? 0.0 : 1.0}});
    std::vector<std::pair<Labels, double>> tables;
    for (const auto& [name, entries] : stats->table_entries) {
      tables.push_back({{{"table", name}}, static_cast<double>(entries)});
      if (name == "inference_requests") {
        AppendGauge(out, "hartonomous_inference_logs",
                    "Logged inferences stored; rate() of it is the inference log rate.",
                    {{{}, static_cast<double>(entries)}});
      }
    }
    AppendGauge(out, "hartonomous_table_entries", "Entries of each LMDB table.", tables);
    AppendFamilyHeader(out, "hartonomous_group_commits_total", "LMDB group commits since start.",
                       "counter");
    AppendSample(out, "hartonomous_group_commits_total", {},
                 static_cast<double>(stats->writer.commits));
    AppendFamilyHeader(out, "hartonomous_write_requests_total",
                       "Write requests committed by group commits since start.", "counter");
    AppendSample(out, "hartonomous_write_requests_total", {},
                 static_cast<double>(stats->writer.requests));
  } else {
    spdlog::debug("metrics: server stats unreadable: {}", stats.status().ToString());
  }

  std::vector<std::pair<Labels, double>> vectors, memory, deleted;
  if (indexes_loaded_()) {
    for (const engine::CollectionInfo& info : embeddings_.ListCollections()) {
      const Labels labels = {{"collection", info.record.name()}};
      vectors.push_back({labels, static_cast<double>(info.vector_count)});
      memory.push_back({labels, static_cast<double>(info.memory_bytes)});
      deleted.push_back({labels, static_cast<double>(info.deleted_count)});
    }
  }
  AppendGauge(out, "hartonomous_collection_vectors", "Vectors in each collection's index.",
              vectors);
  AppendGauge(out, "hartonomous_collection_memory_bytes",
              "Memory of each collection's vector index.", memory);
  AppendGauge(out, "hartonomous_collection_deleted_vectors",
              "Vectors marked deleted in each collection's index, awaiting a rebuild.", deleted);
  AppendFamilyHeader(out, "hartonomous_search_stopped_total",
                     "Searches stopped before they finished: their call's deadline passed, or "
                     "its client cancelled.",
                     "counter");
  AppendSample(out, "hartonomous_search_stopped_total", {{"reason", "deadline"}},
               static_cast<double>(embeddings_.searches_stopped_deadline()));
  AppendSample(out, "hartonomous_search_stopped_total", {{"reason", "cancelled"}},
               static_cast<double>(embeddings_.searches_stopped_cancelled()));

  auto dedup = atoms_.DedupStats(0);
  if (!dedup.ok()) {
    spdlog::debug("metrics: dedup counters unreadable: {}", dedup.status().ToString());
    return;
  }
  std::vector<std::pair<Labels, double>> atoms, refs, unique, logical, compressed;
  double model_stored = 0, model_logical = 0;
  for (const engine::ModalityStats& m : dedup->modalities) {
    const Labels labels = {{"modality", m.modality}};
    atoms.push_back({labels, static_cast<double>(m.counter.unique_atoms())});
    refs.push_back({labels, static_cast<double>(m.counter.total_references())});
    unique.push_back({labels, static_cast<double>(m.counter.unique_bytes())});
    logical.push_back({labels, static_cast<double>(m.counter.logical_bytes())});
    compressed.push_back({labels, static_cast<double>(m.counter.compressed_away_bytes())});
    if (m.modality == engine::kTensorModality) {
      model_stored = static_cast<double>(m.counter.unique_bytes());
      model_logical = static_cast<double>(m.counter.logical_bytes());
    }
  }
  AppendGauge(out, "hartonomous_atoms", "Active unique atoms by modality.", atoms);
  AppendGauge(out, "hartonomous_atom_references", "References to active atoms by modality.", refs);
  AppendGauge(out, "hartonomous_atom_unique_bytes",
              "Content bytes of active unique atoms (each stored once) by modality.", unique);
  AppendGauge(out, "hartonomous_atom_logical_bytes",
              "Content bytes as ingested (size * references) by modality.", logical);
  AppendGauge(out, "hartonomous_atom_compressed_away_bytes",
              "Bytes compression saved in the payload table by modality.", compressed);
  const double saved = static_cast<double>(dedup->total.logical_bytes()) -
                       static_cast<double>(dedup->total.unique_bytes());
  AppendGauge(out, "hartonomous_dedup_saved_bytes",
              "Bytes deduplication saved: logical bytes minus unique bytes.", {{{}, saved}});
  AppendGauge(out, "hartonomous_model_bytes",
              "Bytes of model tensors: stored once (stored) and as imported (logical).",
              {{{{"kind", "stored"}}, model_stored}, {{{"kind", "logical"}}, model_logical}});
}

}  // namespace hartonomous::metrics
