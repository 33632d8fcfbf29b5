#include "storage/tables/activation_table.h"

#include "storage/key_codec.h"
#include "storage/tables/record_codec.h"

namespace hartonomous::storage {

std::string ActivationTable::Key(uint64_t layer_id, std::string_view input_hash) {
  std::string key = Be64Key(layer_id);
  key += input_hash;
  return key;
}

Result<std::optional<CachedActivationRecord>> ActivationTable::Find(
    Txn& txn, uint64_t layer_id, std::string_view input_hash) const {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(activations_, Key(layer_id, input_hash), &value));
  if (!found) return std::optional<CachedActivationRecord>();
  HT_ASSIGN_OR_RETURN(auto record,
                      ParseRecord<CachedActivationRecord>(value, "cached_activations", layer_id));
  return std::optional<CachedActivationRecord>(std::move(record));
}

Status ActivationTable::Put(WriteTxn& txn, const CachedActivationRecord& record) const {
  return txn.Put(activations_, Key(record.layer_id(), record.input_hash()),
                 record.SerializeAsString());
}

Result<ActivationStatsRecord> ActivationTable::Stats(Txn& txn, uint64_t layer_id) const {
  HT_ASSIGN_OR_RETURN(auto found, stats_.Find(txn, layer_id));
  return found ? std::move(*found) : ActivationStatsRecord();
}

Status ActivationTable::PutStats(WriteTxn& txn, uint64_t layer_id,
                                 const ActivationStatsRecord& stats) const {
  return stats_.Put(txn, layer_id, stats);
}

Result<uint64_t> ActivationTable::RemoveLayer(WriteTxn& txn, uint64_t layer_id) const {
  HT_ASSIGN_OR_RETURN(uint64_t rows, txn.DelPrefix(activations_, Be64Key(layer_id)));
  HT_RETURN_IF_ERROR(stats_.Remove(txn, layer_id).status());
  return rows;
}

}  // namespace hartonomous::storage
