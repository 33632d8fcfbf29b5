#include "server/engine/admin/server_stats.h"

#include "base/clock.h"
#include "server/engine/atoms/atom_engine.h"

namespace hartonomous::engine {

Result<ServerStatsSnapshot> CollectServerStats(storage::Env& env, const storage::Tables& tables,
                                               const storage::WriteBatcher& writer,
                                               int64_t started_at_us) {
  ServerStatsSnapshot s;
  s.schema_version = storage::kSchemaVersion;
  s.uptime_seconds = static_cast<uint64_t>((NowMicros() - started_at_us) / 1000000);
  s.writer = writer.stats();
  s.map_size_bytes = env.map_size();
  s.map_resizes = env.resizes();
  s.data_file_bytes = env.used_bytes();
  HT_ASSIGN_OR_RETURN(s.free_bytes, env.FreeBytes());
  storage::ReadTxn txn(env);
  HT_RETURN_IF_ERROR(txn.status());
  for (const auto& info : storage::AllTables()) {
    HT_ASSIGN_OR_RETURN(uint64_t n, txn.Count(tables.*(info.member)));
    s.table_entries.emplace_back(info.name, n);
  }
  return s;
}

}  // namespace hartonomous::engine
