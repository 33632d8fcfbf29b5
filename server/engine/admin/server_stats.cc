#include "server/engine/admin/server_stats.h"

#include <algorithm>

#include "base/clock.h"
#include "server/engine/atoms/atom_engine.h"
#include "storage/disk_space.h"

namespace hartonomous::engine {

std::string DiskFullReason(const storage::Env& env) {
  const int64_t since = env.disk_full_since_us();
  if (since == 0) return "";
  const int64_t seconds = std::max<int64_t>(0, (NowMicros() - since) / 1000000);
  const std::string& path = env.options().path;
  std::string available = "an unknown number of";
  if (auto bytes = storage::AvailableBytes(path)) available = std::to_string(*bytes);
  return "disk full: writes have failed for lack of space for " + std::to_string(seconds) +
         " s; the disk holding " + path + " has " + available +
         " bytes available; reads are served, and the first write that finds room clears this";
}

Result<ServerStatsSnapshot> CollectServerStats(storage::Env& env, const storage::Tables& tables,
                                               const storage::WriteBatcher& writer,
                                               int64_t started_at_us) {
  ServerStatsSnapshot s;
  s.schema_version = storage::kSchemaVersion;
  s.uptime_seconds = static_cast<uint64_t>((NowMicros() - started_at_us) / 1000000);
  s.writer = writer.stats();
  s.map_size_bytes = env.map_size();
  s.map_resizes = env.resizes();
  s.degraded_reason = DiskFullReason(env);
  s.data_file_bytes = env.used_bytes();
  HT_ASSIGN_OR_RETURN(s.free_bytes, env.FreeBytes());
  storage::ReadTxn txn(env);
  HT_RETURN_IF_ERROR(txn.status());
  for (const auto& info : storage::AllTables()) {
    HT_ASSIGN_OR_RETURN(uint64_t n, txn.Count(tables.*(info.member)));
    s.table_entries.emplace_back(info.name, n);
  }
  // The inference log's other segment slots count with slot 0's tables.
  const auto slot0 = storage::InferenceSlotTableNames(0);
  for (size_t slot = 1; slot < storage::kInferenceSlots; ++slot) {
    const storage::InferenceSlotTables& t = tables.inference_slots[slot];
    const MDB_dbi dbis[] = {t.requests, t.by_time, t.by_model, t.by_task};
    for (size_t k = 0; k < slot0.size(); ++k) {
      HT_ASSIGN_OR_RETURN(uint64_t n, txn.Count(dbis[k]));
      for (auto& [name, entries] : s.table_entries) {
        if (name == slot0[k]) entries += n;
      }
    }
  }
  return s;
}

}  // namespace hartonomous::engine
