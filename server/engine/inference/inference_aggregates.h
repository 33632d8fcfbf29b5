// The arithmetic of the inference aggregates (storage/tables/
// inference_aggregate_table.h): AggregateChanges gathers what a write adds
// (logged rows) and subtracts (pruned rows) per aggregate key and applies
// it with one read-modify-write per key (rows are gathered off the writer
// thread where possible, see InferenceEngine); AggregateSummary merges stored
// aggregates into the numbers analytics report.
//
// Every sum is an integer (durations in microseconds, confidences in
// billionths) and the duration sketch subtracts exactly (dd_sketch.h), so
// adding a row and later subtracting it leaves the aggregate as if it had
// never been added.
//
// Thread-safety: value types.
#pragma once

#include <array>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "base/status.h"
#include "server/engine/inference/dd_sketch.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/tables/inference_aggregate_table.h"

namespace hartonomous::engine {

// A confidence as counted in the sums: round(confidence * 1e9).
int64_t ConfidenceNanos(double confidence);
// A duration as the sketch counts it, in milliseconds.
double DurationMs(int64_t duration_us);

class AggregateChanges {
 public:
  AggregateChanges() = default;
  // Not copyable: by_minute_ points into changes_.
  AggregateChanges(const AggregateChanges&) = delete;
  AggregateChanges& operator=(const AggregateChanges&) = delete;

  // Adds (sign +1) or subtracts (sign -1) one row in each of its buckets.
  void Add(const storage::InferenceRecord& row, int sign);
  // Applies every change. A row reaching count 0 is deleted.
  Status Apply(storage::WriteTxn& txn, const storage::InferenceAggregateTable& table) const;
  // Aggregate rows Apply writes.
  size_t size() const { return changes_.size(); }

 private:
  struct Change {
    storage::AggregateKey key;
    int64_t count = 0, duration_us = 0, confidence_count = 0, confidence_nanos = 0;
    int64_t input_tokens = 0, output_tokens = 0;
    std::vector<double> added_ms, removed_ms;
  };
  std::map<std::string, Change> changes_;  // by encoded key
  // Rows of one (model, task type, minute) share every bucket: their
  // changes, one per granularity (kAggregateGranularities order), found
  // once per such group instead of once per row and granularity.
  std::map<std::tuple<uint64_t, int64_t, std::string>,
           std::array<Change*, std::size(storage::kAggregateGranularities)>>
      by_minute_;
};

// Stored sketch <-> DdSketch.
DdSketch SketchOf(const storage::InferenceAggregateRecord& record);
void StoreSketch(const DdSketch& sketch, storage::InferenceAggregateRecord* record);

struct AggregateSummary {
  uint64_t count = 0;
  int64_t duration_us_sum = 0;
  uint64_t confidence_count = 0;
  int64_t confidence_nano_sum = 0;
  int64_t input_tokens = 0, output_tokens = 0;
  DdSketch sketch;

  void Merge(const storage::InferenceAggregateRecord& record);
};

}  // namespace hartonomous::engine
