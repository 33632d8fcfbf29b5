#include "server/metrics/status_report.h"

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "server/engine/admin/server_stats.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/tensor_store.h"
#include "server/engine/vectors/embedding_engine.h"
#include "server/version.h"

namespace hartonomous::metrics {
namespace {

ModalityRow RowOf(std::string modality, const storage::DedupCounter& c) {
  ModalityRow row;
  row.modality = std::move(modality);
  row.atoms = c.unique_atoms();
  row.references = c.total_references();
  row.unique_bytes = c.unique_bytes();
  row.logical_bytes = c.logical_bytes();
  row.compressed_away_bytes = c.compressed_away_bytes();
  return row;
}

nlohmann::json ModalityJson(const ModalityRow& m) {
  return {{"modality", m.modality},           {"atoms", m.atoms},
          {"references", m.references},       {"unique_bytes", m.unique_bytes},
          {"logical_bytes", m.logical_bytes}, {"compressed_away_bytes", m.compressed_away_bytes}};
}

}  // namespace

StatusReport StatusCollector::Collect() {
  StatusReport report;
  report.version = kVersion;
  report.generated_at_us = NowMicros();
  std::tie(report.state, report.state_reason) = state_();

  auto stats = engine::CollectServerStats(env_, tables_, writer_, started_at_us_);
  if (stats.ok()) {
    report.uptime_seconds = stats->uptime_seconds;
    report.map_size_bytes = stats->map_size_bytes;
    report.data_file_bytes = stats->data_file_bytes;
    report.free_bytes = stats->free_bytes;
    report.used_bytes =
        stats->data_file_bytes > stats->free_bytes ? stats->data_file_bytes - stats->free_bytes : 0;
    for (const auto& [name, entries] : stats->table_entries) {
      if (name == "models") report.model_count = entries;
      if (name == "inference_requests") report.inference_logs = entries;
    }
    if (report.state == "serving" && !stats->degraded_reason.empty()) {
      report.state = "degraded";
      report.state_reason = stats->degraded_reason;
    }
  } else {
    report.unavailable.push_back("storage: " + stats.status().ToString());
  }

  auto dedup = atoms_.DedupStats(0);
  if (dedup.ok()) {
    for (const engine::ModalityStats& m : dedup->modalities) {
      report.modalities.push_back(RowOf(m.modality, m.counter));
      if (m.modality == engine::kTensorModality) {
        report.model_stored_bytes = m.counter.unique_bytes();
        report.model_logical_bytes = m.counter.logical_bytes();
      }
    }
    report.atoms_total = RowOf("all", dedup->total);
    const uint64_t logical = dedup->total.logical_bytes();
    const uint64_t unique = dedup->total.unique_bytes();
    report.dedup_saved_bytes = logical > unique ? logical - unique : 0;
    if (logical > 0 && stats.ok()) {
      report.disk_per_logical_byte =
          static_cast<double>(report.used_bytes) / static_cast<double>(logical);
    }
  } else {
    report.unavailable.push_back("atoms: " + dedup.status().ToString());
  }

  report.collections_loaded = indexes_loaded_();
  if (report.collections_loaded) {
    for (const engine::CollectionInfo& info : embeddings_.ListCollections()) {
      CollectionRow row;
      row.name = info.record.name();
      row.index_kind = info.record.index_kind();
      row.dimension = info.record.dimension();
      row.metric = info.record.metric();
      row.vectors = info.vector_count;
      row.deleted = info.deleted_count;
      row.memory_bytes = info.memory_bytes;
      report.collections.push_back(std::move(row));
    }
  }

  auto models = models_.ListModels(engine::ModelFilter{}, kMaxModelRows, "");
  if (models.ok()) {
    for (const engine::ModelView& view : models->models) {
      const storage::ModelRecord& m = view.model;
      report.models.push_back({m.model_name(), m.model_type(), m.architecture(), m.layer_count(),
                               m.parameter_count(), m.usage_count()});
    }
  } else {
    report.unavailable.push_back("models: " + models.status().ToString());
  }

  report.rpc =
      rates_.Sample(report.generated_at_us, CountsByMethod(metrics_.rpc_requests().Values()));
  return report;
}

std::string StatusJson(const StatusReport& r) {
  nlohmann::json modalities = nlohmann::json::array();
  for (const ModalityRow& m : r.modalities) modalities.push_back(ModalityJson(m));
  nlohmann::json collections = nlohmann::json::array();
  for (const CollectionRow& c : r.collections) {
    collections.push_back({{"name", c.name},
                           {"index_kind", c.index_kind},
                           {"dimension", c.dimension},
                           {"metric", c.metric},
                           {"vectors", c.vectors},
                           {"deleted", c.deleted},
                           {"memory_bytes", c.memory_bytes}});
  }
  nlohmann::json models = nlohmann::json::array();
  for (const ModelRow& m : r.models) {
    models.push_back({{"name", m.name},
                      {"model_type", m.model_type},
                      {"architecture", m.architecture},
                      {"layers", m.layers},
                      {"parameters", m.parameters},
                      {"usage_count", m.usage_count}});
  }
  nlohmann::json methods = nlohmann::json::array();
  for (const MethodRate& m : r.rpc.methods) {
    methods.push_back({{"method", m.method},
                       {"calls", m.calls},
                       {"errors", m.errors},
                       {"calls_per_second", m.calls_per_second},
                       {"errors_per_second", m.errors_per_second}});
  }
  const nlohmann::json out = {
      {"version", r.version},
      {"state", r.state},
      {"state_reason", r.state_reason},
      {"generated_at_us", r.generated_at_us},
      {"uptime_seconds", r.uptime_seconds},
      {"storage",
       {{"map_size_bytes", r.map_size_bytes},
        {"data_file_bytes", r.data_file_bytes},
        {"free_bytes", r.free_bytes},
        {"used_bytes", r.used_bytes}}},
      {"atoms",
       {{"total", ModalityJson(r.atoms_total)},
        {"modalities", modalities},
        {"dedup_saved_bytes", r.dedup_saved_bytes},
        {"disk_per_logical_byte", r.disk_per_logical_byte}}},
      {"collections", {{"loaded", r.collections_loaded}, {"list", collections}}},
      {"models",
       {{"count", r.model_count},
        {"stored_bytes", r.model_stored_bytes},
        {"logical_bytes", r.model_logical_bytes},
        {"list", models}}},
      {"inference_logs", r.inference_logs},
      {"rpc",
       {{"interval_seconds", r.rpc.interval_seconds},
        {"calls_per_second", r.rpc.calls_per_second},
        {"errors_per_second", r.rpc.errors_per_second},
        {"methods", methods}}},
      {"unavailable", r.unavailable}};
  return out.dump();
}

}  // namespace hartonomous::metrics
