// InferenceTable: the inference log rows and every key encoding of them.
//
//   "inference_requests":    be64(inference_id) -> InferenceRecord (steps inline)
//   "inference_by_time":     be64(~start_us) be64(inference_id) -> ""
//   "inference_by_model":    be64(model_id) be64(~start_us) be64(inference_id) -> ""
//   "inference_by_task":     task_type 0x00 be64(~start_us) be64(inference_id) -> ""
//   "inference_request_ids": request_id -> be64(inference_id)   (non-empty ids)
//
// ~start_us is the bitwise NOT of the start time, so each index lists its
// rows newest first; rows of one start time come in inference_id order.
// Model 0 holds the rows without a model. Ids come from the
// "inference_id" sequence. Insert writes the row and its index entries,
// Remove deletes them all.
//
// Errors: a row that does not parse or an index entry of the wrong size ->
// DataLoss naming the table. Lookups of absent keys return nullopt.
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
#include "storage/sequence.h"
#include "storage/tables/id_table.h"

namespace hartonomous::storage {

// The name of the sequence inference ids come from.
inline constexpr char kInferenceIdSequence[] = "inference_id";

// The orders in which inference rows can be scanned, newest first.
enum class InferenceIndex {
  kTime,   // every row
  kModel,  // one model's rows (model 0: rows without a model)
  kTask,   // one task type's rows
};

class InferenceTable {
 public:
  explicit InferenceTable(const Tables& t)
      : t_(t), records_(t.inference_requests, "inference_requests") {}

  const IdTable<InferenceRecord>& records() const { return records_; }

  // Stores a new row (id from the "inference_id" sequence, set in *record)
  // and its index entries. REQUIRES: record->start_us() >= 0; its
  // request_id, when set, is not stored yet (FindRequestId).
  Result<uint64_t> Insert(WriteTxn& txn, InferenceRecord* record) const;
  // The same with the id from `ids` (the "inference_id" sequence of txn,
  // Sequence(txn, sequences, kInferenceIdSequence)), which the caller
  // flushes once after its inserts.
  Result<uint64_t> Insert(WriteTxn& txn, Sequence& ids, InferenceRecord* record) const;
  // Deletes the row and its index entries.
  Status Remove(WriteTxn& txn, const InferenceRecord& record) const;
  Result<std::optional<InferenceRecord>> Find(Txn& txn, uint64_t inference_id) const {
    return records_.Find(txn, inference_id);
  }
  Result<std::optional<uint64_t>> FindRequestId(Txn& txn, std::string_view request_id) const;

  // Calls visit(position, inference_id) for the rows of one index, newest
  // first, with start_us in [oldest_us, newest_us], from just after `after`
  // (empty = from the newest) until visit returns false. value: the model
  // id (kModel, be64) or the task type (kTask); ignored for kTime.
  // `position` is opaque: pass it back as `after` to resume.
  Status ScanNewestFirst(
      Txn& txn, InferenceIndex index, std::string_view value, int64_t newest_us, int64_t oldest_us,
      std::string_view after,
      const std::function<bool(std::string_view position, uint64_t inference_id)>& visit) const;
  // Calls visit(start_us, inference_id) for the rows with start_us < before_us,
  // oldest first, until visit returns false.
  Status ScanOldestFirst(Txn& txn, int64_t before_us,
                         const std::function<bool(int64_t start_us, uint64_t id)>& visit) const;

  // Key encodings, for tests and docs/storage_format.md.
  static std::string TimeKey(int64_t start_us, uint64_t inference_id);
  static std::string ModelKey(uint64_t model_id, int64_t start_us, uint64_t inference_id);
  static std::string TaskKey(std::string_view task_type, int64_t start_us, uint64_t inference_id);
  // The start time and id of a TimeKey (or the tail of the other two).
  static int64_t StartOf(std::string_view time_key);
  static uint64_t IdOf(std::string_view time_key);

 private:
  Tables t_;
  IdTable<InferenceRecord> records_;
};

}  // namespace hartonomous::storage
