#include "storage/tables/inference_aggregate_table.h"

#include "storage/key_codec.h"
#include "storage/tables/record_codec.h"

namespace hartonomous::storage {
namespace {

constexpr size_t kFixedKeyBytes = 17;  // u8 be64 be64

std::string ModelPrefix(AggregateGranularity granularity, uint64_t model_id) {
  std::string key(1, static_cast<char>(granularity));
  AppendBe64(&key, model_id);
  return key;
}

}  // namespace

int64_t BucketLengthUs(AggregateGranularity granularity) {
  switch (granularity) {
    case AggregateGranularity::kMinute:
      return kMinuteUs;
    case AggregateGranularity::kHour:
      return kHourUs;
    case AggregateGranularity::kTenMinutes:
      return 10 * kMinuteUs;
    case AggregateGranularity::kSixHours:
      return 6 * kHourUs;
    case AggregateGranularity::kDay:
      return kDayUs;
  }
  return kMinuteUs;
}

std::string InferenceAggregateTable::Key(const AggregateKey& key) {
  std::string bytes = ModelPrefix(key.granularity, key.model_id);
  AppendBe64(&bytes, static_cast<uint64_t>(key.bucket_start_us));
  bytes += key.task_type;
  return bytes;
}

AggregateKey InferenceAggregateTable::Decode(std::string_view bytes) {
  AggregateKey key;
  key.granularity = static_cast<AggregateGranularity>(static_cast<uint8_t>(bytes[0]));
  key.model_id = ReadBe64(bytes.substr(1, 8));
  key.bucket_start_us = static_cast<int64_t>(ReadBe64(bytes.substr(9, 8)));
  key.task_type = std::string(bytes.substr(kFixedKeyBytes));
  return key;
}

Result<std::optional<InferenceAggregateRecord>> InferenceAggregateTable::Find(
    Txn& txn, const AggregateKey& key) const {
  std::string_view value;
  const std::string bytes = Key(key);
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(dbi_, bytes, &value));
  if (!found) return std::optional<InferenceAggregateRecord>();
  HT_ASSIGN_OR_RETURN(auto record, ParseRecord<InferenceAggregateRecord>(
                                       value, "inference_aggregates", key.task_type));
  return std::optional<InferenceAggregateRecord>(std::move(record));
}

Status InferenceAggregateTable::Put(WriteTxn& txn, const AggregateKey& key,
                                    const InferenceAggregateRecord& record) const {
  if (record.count() == 0) return txn.Del(dbi_, Key(key)).status();
  return txn.Put(dbi_, Key(key), record.SerializeAsString());
}

Status InferenceAggregateTable::Scan(
    Txn& txn, AggregateGranularity granularity, std::optional<uint64_t> model_id, int64_t from_us,
    int64_t to_us,
    const std::function<bool(const AggregateKey& key, InferenceAggregateRecord&& record)>& visit)
    const {
  if (to_us <= from_us) return Status::Ok();
  auto cursor = txn.OpenCursor(dbi_);
  uint64_t model = model_id.value_or(0);
  while (true) {
    std::string start = ModelPrefix(granularity, model);
    AppendBe64(&start, static_cast<uint64_t>(from_us));
    HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(start));
    if (!valid) return Status::Ok();
    std::string_view key = cursor->key();
    if (key.size() < kFixedKeyBytes || static_cast<uint8_t>(key[0]) !=
                                           static_cast<uint8_t>(granularity)) {
      return Status::Ok();
    }
    const uint64_t found_model = ReadBe64(key.substr(1, 8));
    if (model_id && found_model != *model_id) return Status::Ok();
    if (found_model != model) {  // the next model: seek to its window
      model = found_model;
      continue;
    }
    while (valid) {
      key = cursor->key();
      if (key.size() < kFixedKeyBytes) {
        return Status::DataLoss("inference_aggregates: a key is corrupt");
      }
      AggregateKey decoded = Decode(key);
      if (decoded.granularity != granularity || decoded.model_id != model ||
          decoded.bucket_start_us >= to_us) {
        break;
      }
      HT_ASSIGN_OR_RETURN(auto record, ParseRecord<InferenceAggregateRecord>(
                                           cursor->value(), "inference_aggregates",
                                           std::to_string(model)));
      if (!visit(decoded, std::move(record))) return Status::Ok();
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
    if (model_id || model == UINT64_MAX) return Status::Ok();
    ++model;
  }
}

}  // namespace hartonomous::storage
