#include "server/engine/inference/inference_aggregates.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

namespace hartonomous::engine {

int64_t ConfidenceNanos(double confidence) { return std::llround(confidence * 1e9); }

double DurationMs(int64_t duration_us) { return static_cast<double>(duration_us) / 1000.0; }

void AggregateChanges::Add(const storage::InferenceRecord& row, int sign) {
  const int64_t minute = row.start_us() / storage::kMinuteUs * storage::kMinuteUs;
  auto [group, fresh] = by_minute_.try_emplace({row.model_id(), minute, row.task_type()});
  if (fresh) {
    for (size_t g = 0; g < group->second.size(); ++g) {
      const auto granularity = storage::kAggregateGranularities[g];
      const int64_t length = storage::BucketLengthUs(granularity);
      storage::AggregateKey key{granularity, row.model_id(), row.start_us() / length * length,
                                row.task_type()};
      Change& change = changes_[storage::InferenceAggregateTable::Key(key)];
      change.key = std::move(key);
      group->second[g] = &change;
    }
  }
  for (Change* pointer : group->second) {
    Change& change = *pointer;
    change.count += sign;
    change.duration_us += sign * row.duration_us();
    if (row.has_confidence()) {
      change.confidence_count += sign;
      change.confidence_nanos += sign * ConfidenceNanos(row.confidence());
    }
    change.input_tokens += sign * row.input_tokens();
    change.output_tokens += sign * row.output_tokens();
    (sign > 0 ? change.added_ms : change.removed_ms).push_back(DurationMs(row.duration_us()));
  }
}

Status AggregateChanges::Apply(storage::WriteTxn& txn,
                               const storage::InferenceAggregateTable& table) const {
  for (const auto& [bytes, change] : changes_) {
    HT_ASSIGN_OR_RETURN(std::optional<storage::InferenceAggregateRecord> found,
                        table.Find(txn, change.key));
    storage::InferenceAggregateRecord record = found.value_or(storage::InferenceAggregateRecord());
    const int64_t count = static_cast<int64_t>(record.count()) + change.count;
    if (count < 0) {
      return Status::DataLoss("inference_aggregates: a bucket of model " +
                              std::to_string(change.key.model_id) + " would count below zero");
    }
    record.set_count(static_cast<uint64_t>(count));
    record.set_duration_us_sum(record.duration_us_sum() + change.duration_us);
    record.set_confidence_count(static_cast<uint64_t>(
        static_cast<int64_t>(record.confidence_count()) + change.confidence_count));
    record.set_confidence_nano_sum(record.confidence_nano_sum() + change.confidence_nanos);
    record.set_input_tokens_sum(record.input_tokens_sum() + change.input_tokens);
    record.set_output_tokens_sum(record.output_tokens_sum() + change.output_tokens);
    DdSketch sketch = SketchOf(record);
    for (double ms : change.added_ms) sketch.Add(ms);
    for (double ms : change.removed_ms) sketch.Remove(ms);
    StoreSketch(sketch, &record);
    HT_RETURN_IF_ERROR(table.Put(txn, change.key, record));
  }
  return Status::Ok();
}

DdSketch SketchOf(const storage::InferenceAggregateRecord& record) {
  DdSketch sketch;
  const int n = std::min(record.sketch_index_size(), record.sketch_count_size());
  for (int i = 0; i < n; ++i) sketch.AddBucket(record.sketch_index(i), record.sketch_count(i));
  sketch.AddZeros(record.sketch_zero_count());
  return sketch;
}

void StoreSketch(const DdSketch& sketch, storage::InferenceAggregateRecord* record) {
  record->clear_sketch_index();
  record->clear_sketch_count();
  sketch.ForEachBucket([&](int32_t index, uint64_t count) {
    record->add_sketch_index(index);
    record->add_sketch_count(count);
  });
  record->set_sketch_zero_count(sketch.zero_count());
}

void AggregateSummary::Merge(const storage::InferenceAggregateRecord& record) {
  count += record.count();
  duration_us_sum += record.duration_us_sum();
  confidence_count += record.confidence_count();
  confidence_nano_sum += record.confidence_nano_sum();
  input_tokens += record.input_tokens_sum();
  output_tokens += record.output_tokens_sum();
  const int n = std::min(record.sketch_index_size(), record.sketch_count_size());
  for (int i = 0; i < n; ++i) sketch.AddBucket(record.sketch_index(i), record.sketch_count(i));
  sketch.AddZeros(record.sketch_zero_count());
}

}  // namespace hartonomous::engine
