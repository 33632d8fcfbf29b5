// InferenceAggregateTable: the per (granularity, model, bucket, task type)
// aggregates of the inference log, which analytics read instead of rows.
//
//   "inference_aggregates": u8(granularity) be64(model_id) be64(bucket_start_us)
//                           task_type -> InferenceAggregateRecord
//
// Granularities: 0 = minute, 1 = hour, 2 = 10 minutes, 3 = 6 hours, 4 = day
// (UTC); bucket_start_us is a multiple of the bucket length, and each
// length divides the next larger one, so a window of whole minutes is
// covered by a few buckets of each length. Model 0 holds the rows without a
// model. A row whose count drops to zero (pruning) is deleted.
//
// Errors: a row that does not parse -> DataLoss naming the table.
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"

namespace hartonomous::storage {

enum class AggregateGranularity : uint8_t {
  kMinute = 0,
  kHour = 1,
  kTenMinutes = 2,
  kSixHours = 3,
  kDay = 4,
};

// Every granularity, shortest bucket first.
inline constexpr AggregateGranularity kAggregateGranularities[] = {
    AggregateGranularity::kMinute, AggregateGranularity::kTenMinutes, AggregateGranularity::kHour,
    AggregateGranularity::kSixHours, AggregateGranularity::kDay};

inline constexpr int64_t kMinuteUs = int64_t{60} * 1000000;
inline constexpr int64_t kHourUs = 60 * kMinuteUs;
inline constexpr int64_t kDayUs = 24 * kHourUs;

// The bucket length of a granularity in microseconds.
int64_t BucketLengthUs(AggregateGranularity granularity);

struct AggregateKey {
  AggregateGranularity granularity = AggregateGranularity::kMinute;
  uint64_t model_id = 0;
  int64_t bucket_start_us = 0;
  std::string task_type;
};

class InferenceAggregateTable {
 public:
  explicit InferenceAggregateTable(const Tables& t) : dbi_(t.inference_aggregates) {}

  Result<std::optional<InferenceAggregateRecord>> Find(Txn& txn, const AggregateKey& key) const;
  // Writes the row, or deletes it when record.count() is 0.
  Status Put(WriteTxn& txn, const AggregateKey& key, const InferenceAggregateRecord& record) const;

  // Calls visit(key, record) for the rows of one granularity with
  // bucket_start_us in [from_us, to_us), for one model (model_id set) or
  // every model, in (model, bucket, task) order, until visit returns false.
  // Reads only rows inside the range: it seeks past the others.
  Status Scan(Txn& txn, AggregateGranularity granularity, std::optional<uint64_t> model_id,
              int64_t from_us, int64_t to_us,
              const std::function<bool(const AggregateKey& key,
                                       InferenceAggregateRecord&& record)>& visit) const;

  // The key encoding, for tests and docs/storage_format.md.
  static std::string Key(const AggregateKey& key);
  // REQUIRES: bytes is a Key() (>= 17 bytes).
  static AggregateKey Decode(std::string_view bytes);

 private:
  MDB_dbi dbi_;
};

}  // namespace hartonomous::storage
