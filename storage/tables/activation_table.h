// ActivationTable: cached layer activations and the per-layer lookup
// statistics behind ModelLayerRecord.cache_hit_rate and avg_compute_time_ms.
//
//   "cached_activations": be64(layer_id) sha256(input) (32 bytes) -> CachedActivationRecord
//   "activation_stats":   be64(layer_id) -> ActivationStatsRecord
//
// Errors: a row that does not parse -> DataLoss naming the table.
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/id_table.h"

namespace hartonomous::storage {

class ActivationTable {
 public:
  explicit ActivationTable(const Tables& t)
      : activations_(t.cached_activations), stats_(t.activation_stats, "activation_stats") {}

  // REQUIRES: input_hash is 32 bytes.
  Result<std::optional<CachedActivationRecord>> Find(Txn& txn, uint64_t layer_id,
                                                     std::string_view input_hash) const;
  // REQUIRES: record.input_hash() is 32 bytes.
  Status Put(WriteTxn& txn, const CachedActivationRecord& record) const;
  // The layer's statistics; an empty record when it has none.
  Result<ActivationStatsRecord> Stats(Txn& txn, uint64_t layer_id) const;
  Status PutStats(WriteTxn& txn, uint64_t layer_id, const ActivationStatsRecord& stats) const;
  // Deletes the layer's activations and statistics; returns the rows deleted.
  Result<uint64_t> RemoveLayer(WriteTxn& txn, uint64_t layer_id) const;

  // The key encoding, for tests and docs/storage_format.md.
  static std::string Key(uint64_t layer_id, std::string_view input_hash);

 private:
  MDB_dbi activations_;
  IdTable<ActivationStatsRecord> stats_;
};

}  // namespace hartonomous::storage
