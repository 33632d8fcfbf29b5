// InferenceTable: the inference log's rows, kept in segments, and every key
// encoding of them.
//
// A segment is one slot's four tables (storage/schema.h, InferenceSlotTables):
//   requests: be64(inference_id) -> InferenceRecord (steps inline)
//   by_time:  be64(~start_us) be64(inference_id) -> ""
//   by_model: be64(model_id) be64(~start_us) be64(inference_id) -> ""
//   by_task:  task_type 0x00 be64(~start_us) be64(inference_id) -> ""
// and, shared by every segment:
//   "inference_request_ids": request_id -> be64(inference_id)   (non-empty ids)
//   "inference_segments":    be64(segment) -> be32(slot) be64(first_id)
//                            be64(hidden_before_us) be64(texts_queued_through)
//                            be64(newest_start_us)
//
// ~start_us is the bitwise NOT of the start time, so each index lists its
// rows newest first; rows of one start time come in inference_id order.
// Model 0 holds the rows without a model. Ids come from the "inference_id"
// sequence.
//
// Segments are numbered in arrival order: segment n holds the ids from its
// first_id up to the next segment's first_id. A data dir without entries has
// one segment, number 0 in slot 0 from id 0 (the layout before segments).
// New rows go into the newest segment; once it holds a segment's worth of
// rows (SegmentPolicy) the next row starts a new segment in a free slot. The
// prune (server/engine/inference) empties a segment whose rows are all older
// than its cutoff whole, with Clear on its four tables, instead of deleting
// its rows one by one; while it works, the segment's rows with start_us <
// hidden_before_us count as deleted for every reader (not found, not
// listed), and texts_queued_through records the last text atom whose
// references the prune has queued for release. Only the newest segment
// takes rows, so a segment being emptied never gains one, and a segment
// that stops taking rows stores the start time of its newest row
// (newest_start_us): a newest-first scan reads an older segment only once
// the rows it has found are no newer than that, so the newest rows of a
// large log cost a seek in one or two segments, not in every one.
//
// Errors: a row that does not parse or an index entry or segment entry of
// the wrong size -> DataLoss naming the table. Lookups of absent keys
// return nullopt.
//
// Thread-safety: an InferenceTable holds the segment list read in one
// transaction: use it inside that transaction only (writes through it keep
// the list current).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/sequence.h"

namespace hartonomous::storage {

// The name of the sequence inference ids come from.
inline constexpr char kInferenceIdSequence[] = "inference_id";

// hidden_before_us of a segment whose every row is deleted.
inline constexpr int64_t kAllRowsHidden = std::numeric_limits<int64_t>::max();
// newest_start_us of the newest segment (it takes rows: no bound yet).
inline constexpr int64_t kSegmentTakesRows = std::numeric_limits<int64_t>::max();
// newest_start_us of an older segment that holds no rows.
inline constexpr int64_t kSegmentWithoutRows = -1;

struct InferenceSegment {
  uint64_t number = 0;
  uint32_t slot = 0;
  uint64_t first_id = 0;
  int64_t hidden_before_us = 0;       // rows with start_us below it are deleted
  uint64_t texts_queued_through = 0;  // atom id; 0 = none queued yet
  // The start of its newest row, hidden ones too, stored when it stopped
  // taking rows; kSegmentTakesRows for the newest.
  int64_t newest_start_us = kSegmentTakesRows;
  bool stored = false;  // false: the implicit segment of a dir without entries

  // A prune has begun emptying it.
  bool emptying() const { return hidden_before_us > 0 || texts_queued_through > 0; }
};

// When the newest segment is full: at max(min_rows, rows of every segment /
// live_fraction) rows, so that a prune finds most old rows in segments it
// can empty whole, while a large log needs no more than about
// kInferenceSlots segments. Rotation keeps one slot free for the prune.
struct SegmentPolicy {
  uint64_t min_rows = 65536;
  uint64_t live_fraction = 16;
};

// The orders in which inference rows can be scanned, newest first.
enum class InferenceIndex {
  kTime,   // every row
  kModel,  // one model's rows (model 0: rows without a model)
  kTask,   // one task type's rows
};

class InferenceTable {
 public:
  // Reads the segment list of txn's snapshot.
  static Result<InferenceTable> Open(Txn& txn, const Tables& t);

  // Oldest first; the last one takes new rows.
  const std::vector<InferenceSegment>& segments() const { return segments_; }

  // Stores a new row in the newest segment (id from `ids`, the
  // "inference_id" sequence of txn, which the caller flushes once after its
  // inserts; set in *record) and its index entries; starts a new segment
  // first when the newest is full under `policy`. REQUIRES:
  // record->start_us() >= 0; its request_id, when set, is not stored yet
  // (FindRequestId).
  Result<uint64_t> Insert(WriteTxn& txn, Sequence& ids, InferenceRecord* record,
                          const SegmentPolicy& policy);
  // The same with its own sequence and the default policy.
  Result<uint64_t> Insert(WriteTxn& txn, InferenceRecord* record);
  // Deletes the row (of any segment) and its index entries.
  Status Remove(WriteTxn& txn, const InferenceRecord& record) const;
  // The row, unless absent or deleted by a segment's hidden_before_us.
  Result<std::optional<InferenceRecord>> Find(Txn& txn, uint64_t inference_id) const;
  Result<std::optional<uint64_t>> FindRequestId(Txn& txn, std::string_view request_id) const;
  Status RemoveRequestId(WriteTxn& txn, std::string_view request_id) const;

  // Calls visit(position, inference_id) for the rows of one index, newest
  // first across segments, with start_us in [oldest_us, newest_us], from
  // just after `after` (empty = from the newest) until visit returns false.
  // value: the model id (kModel, be64) or the task type (kTask); ignored
  // for kTime. `position` is opaque: pass it back as `after` to resume.
  Status ScanNewestFirst(
      Txn& txn, InferenceIndex index, std::string_view value, int64_t newest_us, int64_t oldest_us,
      std::string_view after,
      const std::function<bool(std::string_view position, uint64_t inference_id)>& visit) const;
  // Calls visit(start_us, inference_id) for segment's rows with start_us <
  // before_us that are not deleted, oldest first, until visit returns false.
  Status ScanOldestFirst(Txn& txn, const InferenceSegment& segment, int64_t before_us,
                         const std::function<bool(int64_t start_us, uint64_t id)>& visit) const;
  // Calls visit(record) for the rows of segment with start_us >=
  // from_start_us, deleted (hidden) ones too, oldest first, until visit
  // returns false.
  Status ScanSegment(Txn& txn, const InferenceSegment& segment, int64_t from_start_us,
                     const std::function<Result<bool>(const InferenceRecord&)>& visit) const;
  // Calls visit(record) for every row not deleted, in id order.
  Status ForEachRow(Txn& txn, const std::function<bool(InferenceRecord&&)>& visit) const;
  // The start times of segment's newest and oldest rows, hidden ones too
  // (nullopt: it is empty).
  Result<std::optional<int64_t>> NewestStart(Txn& txn, const InferenceSegment& segment) const;
  Result<std::optional<int64_t>> OldestStart(Txn& txn, const InferenceSegment& segment) const;
  // Rows stored in segment, hidden ones too.
  Result<uint64_t> Rows(Txn& txn, const InferenceSegment& segment) const;
  // Rows stored in every segment.
  Result<uint64_t> AllRows(Txn& txn) const;

  // Starts a new, empty newest segment, so that the one before takes no
  // more rows. False (nothing written) when no slot is free.
  Result<bool> StartSegment(WriteTxn& txn);
  // Stores segment's hidden_before_us and texts_queued_through.
  Status UpdateSegment(WriteTxn& txn, const InferenceSegment& segment);
  // Empties segment's four tables and removes it from the list.
  // REQUIRES: it is not the newest segment.
  Status DropSegment(WriteTxn& txn, const InferenceSegment& segment);

  // Key encodings, for tests and docs/storage_format.md.
  static std::string TimeKey(int64_t start_us, uint64_t inference_id);
  static std::string ModelKey(uint64_t model_id, int64_t start_us, uint64_t inference_id);
  static std::string TaskKey(std::string_view task_type, int64_t start_us, uint64_t inference_id);
  // The start time and id of a TimeKey (or the tail of the other two).
  static int64_t StartOf(std::string_view time_key);
  static uint64_t IdOf(std::string_view time_key);

 private:
  explicit InferenceTable(const Tables& t) : t_(t) {}

  // The segment holding id (the last one whose first_id <= id).
  const InferenceSegment& Holding(uint64_t id) const;
  const InferenceSlotTables& SlotOf(const InferenceSegment& segment) const {
    return t_.inference_slots[segment.slot];
  }
  Status PutSegment(WriteTxn& txn, const InferenceSegment& segment) const;
  // Appends a segment in a free slot with the given first id.
  Status AppendSegment(WriteTxn& txn, uint64_t first_id);
  Result<bool> NewestIsFull(Txn& txn, const SegmentPolicy& policy);

  Tables t_;
  std::vector<InferenceSegment> segments_;
  int64_t newest_rows_ = -1;  // rows of the newest segment, -1 = not read yet
};

}  // namespace hartonomous::storage
