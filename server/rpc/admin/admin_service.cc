#include "server/rpc/admin/admin_service.h"

#include "index/kernels.h"
#include "server/engine/admin/backup.h"
#include "server/engine/admin/server_stats.h"
#include "server/rpc/common/status_mapping.h"
#include "server/rpc/common/validation.h"
#include "server/version.h"

namespace hartonomous::rpc {

grpc::Status AdminServiceImpl::GetStats(grpc::ServerContextBase*, const v1::GetStatsRequest*,
                                        v1::ServerStats* response) {
  auto stats = engine::CollectServerStats(env_, tables_, writer_, started_at_us_);
  if (!stats.ok()) return ToGrpcStatus(stats.status());
  response->set_version(kVersion);
  response->set_schema_version(stats->schema_version);
  response->set_uptime_seconds(stats->uptime_seconds);
  response->set_commits(stats->writer.commits);
  response->set_write_requests(stats->writer.requests);
  response->set_items_written(stats->writer.items);
  response->set_map_size_bytes(stats->map_size_bytes);
  response->set_map_resizes(stats->map_resizes);
  response->set_data_file_bytes(stats->data_file_bytes);
  response->set_in_flight_calls(in_flight_.unanswered());
  response->set_free_bytes(stats->free_bytes);
  response->set_distance_kernels(index::Kernels().name);
  if (compactor_ != nullptr) {
    response->set_compacting(compactor_->running());
    response->set_compactions(compactor_->completed());
  }
  if (startup_ != nullptr) {
    response->set_state(StartupStateName(startup_->state()));
    response->set_state_reason(startup_->reason());
    response->set_vectors_replayed_at_start(startup_->rows_replayed());
    response->set_vectors_removed_at_start(startup_->rows_removed());
  } else {
    response->set_state(StartupStateName(StartupGate::State::kServing));
  }
  if (response->state() == "serving" && !stats->degraded_reason.empty()) {
    response->set_state("degraded");
    response->set_state_reason(stats->degraded_reason);
  }
  for (const auto& [name, entries] : stats->table_entries) {
    auto* table = response->add_tables();
    table->set_name(name);
    table->set_entries(entries);
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Compact(grpc::ServerContextBase*, const v1::CompactRequest* request,
                                       v1::CompactResponse* response) {
  if (compactor_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "compact: not available in this server");
  }
  if (startup_ != nullptr && startup_->state() != StartupGate::State::kServing) {
    return ToGrpcStatus(Status::Unavailable("compact: the server is " +
                                            std::string(StartupStateName(startup_->state()))));
  }
  auto summary = compactor_->Compact(request->purge_inactive());
  if (!summary.ok()) return ToGrpcStatus(summary.status());
  response->set_file_bytes_before(summary->file_bytes_before);
  response->set_file_bytes_after(summary->file_bytes_after);
  response->set_atoms_purged(summary->atoms_purged);
  response->set_blocks_repacked(summary->blocks_repacked);
  response->set_block_bytes_dropped(summary->block_bytes_dropped);
  response->set_tables_repacked(summary->tables_repacked);
  response->set_duration_ms(summary->duration_ms);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Backup(grpc::ServerContextBase*, const v1::BackupRequest* request,
                                      v1::BackupResponse* response) {
  if (embeddings_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "backup: not available in this server");
  }
  if (startup_ != nullptr && startup_->state() != StartupGate::State::kServing) {
    return ToGrpcStatus(Status::Unavailable("backup: the server is " +
                                            std::string(StartupStateName(startup_->state()))));
  }
  auto report = engine::WriteBackup(env_, *embeddings_, data_dir_, request->path());
  if (!report.ok()) return ToGrpcStatus(report.status());
  response->set_path(report->path);
  response->set_data_file_bytes(report->data_file_bytes);
  response->set_index_files(report->index_files);
  response->set_index_bytes(report->index_bytes);
  response->set_duration_ms(report->duration_ms);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::CheckConsistency(grpc::ServerContextBase*,
                                                const v1::CheckConsistencyRequest* request,
                                                v1::CheckConsistencyResponse* response) {
  if (checker_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "check: not available in this server");
  }
  if (Status valid = ValidateConsistencyLimit(request->limit()); !valid.ok()) {
    return ToGrpcStatus(valid);
  }
  if (startup_ != nullptr && startup_->state() != StartupGate::State::kServing) {
    return ToGrpcStatus(Status::Unavailable("check: the server is " +
                                            std::string(StartupStateName(startup_->state()))));
  }
  engine::ConsistencyOptions options;
  options.repair = request->repair();
  if (request->limit() > 0) options.limit = static_cast<size_t>(request->limit());
  auto report = checker_->CheckConsistency(options);
  if (!report.ok()) return ToGrpcStatus(report.status());
  for (const auto& c : report->checks) {
    auto* out = response->add_checks();
    out->set_check(c.check);
    out->set_checked(c.checked);
    out->set_mismatches(c.mismatches);
    out->set_repaired(c.repaired);
  }
  for (const auto& m : report->mismatches) {
    auto* out = response->add_mismatches();
    out->set_check(m.check);
    out->set_kind(m.kind);
    out->set_table(m.table);
    for (uint64_t id : m.ids) out->add_ids(id);
    out->set_expected(m.expected);
    out->set_found(m.found);
    out->set_repaired(m.repaired);
  }
  response->set_mismatch_count(report->mismatch_count);
  response->set_repaired_count(report->repaired_count);
  response->set_remaining_count(report->mismatch_count - report->repaired_count);
  response->set_truncated(report->mismatch_count > report->mismatches.size());
  response->set_duration_ms(report->duration_ms);
  return grpc::Status::OK;
}

}  // namespace hartonomous::rpc
