#include "storage/tables/inference_table.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "storage/key_codec.h"
#include "storage/tables/id_table.h"

namespace hartonomous::storage {
namespace {

constexpr size_t kTimeKeyBytes = 16;
constexpr size_t kSegmentValueBytes = 4 + 8 + 8 + 8 + 8;

std::string TaskPrefix(std::string_view task_type) {
  std::string prefix(task_type);
  prefix.push_back('\0');
  return prefix;
}

IdTable<InferenceRecord> Records(const InferenceSlotTables& slot) {
  return IdTable<InferenceRecord>(slot.requests, "inference_requests");
}

}  // namespace

std::string InferenceTable::TimeKey(int64_t start_us, uint64_t inference_id) {
  std::string key;
  AppendBe64(&key, ~static_cast<uint64_t>(start_us));
  AppendBe64(&key, inference_id);
  return key;
}

std::string InferenceTable::ModelKey(uint64_t model_id, int64_t start_us, uint64_t inference_id) {
  return Be64Key(model_id) + TimeKey(start_us, inference_id);
}

std::string InferenceTable::TaskKey(std::string_view task_type, int64_t start_us,
                                    uint64_t inference_id) {
  return TaskPrefix(task_type) + TimeKey(start_us, inference_id);
}

int64_t InferenceTable::StartOf(std::string_view time_key) {
  return static_cast<int64_t>(~ReadBe64(time_key.substr(0, 8)));
}

uint64_t InferenceTable::IdOf(std::string_view time_key) { return ReadBe64(time_key.substr(8, 8)); }

Result<InferenceTable> InferenceTable::Open(Txn& txn, const Tables& t) {
  InferenceTable table(t);
  auto cursor = txn.OpenCursor(t.inference_segments);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
  while (valid) {
    const std::string_view key = cursor->key();
    const std::string_view value = cursor->value();
    if (key.size() != 8 || value.size() != kSegmentValueBytes) {
      return Status::DataLoss("inference_segments: an entry is corrupt");
    }
    InferenceSegment segment;
    segment.number = ReadBe64(key);
    segment.slot = ReadBe32(value.substr(0, 4));
    segment.first_id = ReadBe64(value.substr(4, 8));
    segment.hidden_before_us = static_cast<int64_t>(ReadBe64(value.substr(12, 8)));
    segment.texts_queued_through = ReadBe64(value.substr(20, 8));
    segment.newest_start_us = static_cast<int64_t>(ReadBe64(value.substr(28, 8)));
    segment.stored = true;
    const bool ordered =
        table.segments_.empty() || (segment.first_id >= table.segments_.back().first_id);
    if (segment.slot >= kInferenceSlots || !ordered) {
      return Status::DataLoss("inference_segments: segment " + std::to_string(segment.number) +
                              " is corrupt");
    }
    table.segments_.push_back(segment);
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  if (table.segments_.empty()) table.segments_.push_back(InferenceSegment{});
  return table;
}

const InferenceSegment& InferenceTable::Holding(uint64_t id) const {
  auto after = std::upper_bound(
      segments_.begin(), segments_.end(), id,
      [](uint64_t value, const InferenceSegment& segment) { return value < segment.first_id; });
  return after == segments_.begin() ? segments_.front() : *(after - 1);
}

Status InferenceTable::PutSegment(WriteTxn& txn, const InferenceSegment& segment) const {
  std::string value;
  AppendBe32(&value, segment.slot);
  AppendBe64(&value, segment.first_id);
  AppendBe64(&value, static_cast<uint64_t>(segment.hidden_before_us));
  AppendBe64(&value, segment.texts_queued_through);
  AppendBe64(&value, static_cast<uint64_t>(segment.newest_start_us));
  return txn.Put(t_.inference_segments, Be64Key(segment.number), value);
}

Status InferenceTable::AppendSegment(WriteTxn& txn, uint64_t first_id) {
  std::vector<bool> used(kInferenceSlots, false);
  for (const InferenceSegment& segment : segments_) used[segment.slot] = true;
  const auto free = std::find(used.begin(), used.end(), false);
  if (free == used.end()) return Status::Internal("inference_segments: no free slot");
  // The newest segment stops taking rows: its newest start is final.
  InferenceSegment& last = segments_.back();
  HT_ASSIGN_OR_RETURN(const std::optional<int64_t> newest_start, NewestStart(txn, last));
  last.newest_start_us = newest_start.value_or(kSegmentWithoutRows);
  last.stored = true;
  HT_RETURN_IF_ERROR(PutSegment(txn, last));
  InferenceSegment segment;
  segment.number = last.number + 1;
  segment.slot = static_cast<uint32_t>(free - used.begin());
  segment.first_id = first_id;
  segment.stored = true;
  HT_RETURN_IF_ERROR(PutSegment(txn, segment));
  segments_.push_back(segment);
  newest_rows_ = 0;
  return Status::Ok();
}

Result<bool> InferenceTable::NewestIsFull(Txn& txn, const SegmentPolicy& policy) {
  if (newest_rows_ < 0) {
    HT_ASSIGN_OR_RETURN(const uint64_t rows, Rows(txn, segments_.back()));
    newest_rows_ = static_cast<int64_t>(rows);
  }
  const auto newest = static_cast<uint64_t>(newest_rows_);
  // One slot stays free for a prune that must close the newest segment.
  if (newest < policy.min_rows || segments_.size() + 2 > kInferenceSlots) return false;
  HT_ASSIGN_OR_RETURN(const uint64_t all, AllRows(txn));
  return newest >= all / std::max<uint64_t>(1, policy.live_fraction);
}

Result<uint64_t> InferenceTable::Insert(WriteTxn& txn, InferenceRecord* record) {
  Sequence ids(txn, t_.sequences, kInferenceIdSequence);
  HT_ASSIGN_OR_RETURN(uint64_t id, Insert(txn, ids, record, SegmentPolicy{}));
  HT_RETURN_IF_ERROR(ids.Flush());
  return id;
}

Result<uint64_t> InferenceTable::Insert(WriteTxn& txn, Sequence& ids, InferenceRecord* record,
                                        const SegmentPolicy& policy) {
  HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
  HT_ASSIGN_OR_RETURN(const bool full, NewestIsFull(txn, policy));
  if (full) HT_RETURN_IF_ERROR(AppendSegment(txn, id));
  const InferenceSlotTables& slot = SlotOf(segments_.back());
  record->set_inference_id(id);
  const int64_t start = record->start_us();
  HT_RETURN_IF_ERROR(Records(slot).Put(txn, id, *record));
  HT_RETURN_IF_ERROR(txn.Put(slot.by_time, TimeKey(start, id), ""));
  HT_RETURN_IF_ERROR(txn.Put(slot.by_model, ModelKey(record->model_id(), start, id), ""));
  HT_RETURN_IF_ERROR(txn.Put(slot.by_task, TaskKey(record->task_type(), start, id), ""));
  if (!record->request_id().empty()) {
    HT_RETURN_IF_ERROR(txn.Put(t_.inference_request_ids, record->request_id(), Be64Key(id)));
  }
  ++newest_rows_;
  return id;
}

Status InferenceTable::Remove(WriteTxn& txn, const InferenceRecord& record) const {
  const uint64_t id = record.inference_id();
  const int64_t start = record.start_us();
  const InferenceSlotTables& slot = SlotOf(Holding(id));
  HT_RETURN_IF_ERROR(Records(slot).Remove(txn, id).status());
  HT_RETURN_IF_ERROR(txn.Del(slot.by_time, TimeKey(start, id)).status());
  HT_RETURN_IF_ERROR(txn.Del(slot.by_model, ModelKey(record.model_id(), start, id)).status());
  HT_RETURN_IF_ERROR(txn.Del(slot.by_task, TaskKey(record.task_type(), start, id)).status());
  if (!record.request_id().empty()) {
    HT_RETURN_IF_ERROR(RemoveRequestId(txn, record.request_id()));
  }
  return Status::Ok();
}

Status InferenceTable::RemoveRequestId(WriteTxn& txn, std::string_view request_id) const {
  return txn.Del(t_.inference_request_ids, request_id).status();
}

Result<std::optional<InferenceRecord>> InferenceTable::Find(Txn& txn, uint64_t inference_id) const {
  const InferenceSegment& segment = Holding(inference_id);
  HT_ASSIGN_OR_RETURN(std::optional<InferenceRecord> record,
                      Records(SlotOf(segment)).Find(txn, inference_id));
  if (record && record->start_us() < segment.hidden_before_us) record.reset();
  return record;
}

Result<std::optional<uint64_t>> InferenceTable::FindRequestId(Txn& txn,
                                                              std::string_view request_id) const {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.inference_request_ids, request_id, &value));
  if (!found) return std::optional<uint64_t>();
  if (value.size() != sizeof(uint64_t)) {
    return Status::DataLoss("inference_request_ids: entry '" + std::string(request_id) +
                            "' is corrupt");
  }
  return std::optional<uint64_t>(ReadBe64(value));
}

Status InferenceTable::ScanNewestFirst(
    Txn& txn, InferenceIndex index, std::string_view value, int64_t newest_us, int64_t oldest_us,
    std::string_view after,
    const std::function<bool(std::string_view position, uint64_t inference_id)>& visit) const {
  if (newest_us < oldest_us) return Status::Ok();
  const char* name = "inference_by_time";
  std::string prefix;
  switch (index) {
    case InferenceIndex::kTime:
      break;
    case InferenceIndex::kModel:
      name = "inference_by_model";
      prefix = std::string(value);
      break;
    case InferenceIndex::kTask:
      name = "inference_by_task";
      prefix = TaskPrefix(value);
      break;
  }
  const std::string first = prefix + TimeKey(newest_us, 0);
  const std::string resume = prefix + std::string(after);
  const bool resuming = !after.empty() && resume > first;
  // One cursor per segment; each step visits the smallest key among them
  // (keys order rows newest first in every segment alike). A segment is
  // opened only once the rows at hand start no later than its newest row:
  // segments in order of their newest start, the one taking rows first.
  struct Source {
    std::unique_ptr<Cursor> cursor;
    int64_t hidden_before_us;
    bool valid;
  };
  std::vector<Source> sources;
  // Positions the source on its next row in range, or marks it done.
  auto settle = [&](Source& source) -> Status {
    while (source.valid) {
      const std::string_view key = source.cursor->key();
      if (key.substr(0, prefix.size()) != prefix) break;
      if (key.size() != prefix.size() + kTimeKeyBytes) {
        return Status::DataLoss(std::string(name) + ": a key is corrupt");
      }
      const int64_t start = StartOf(key.substr(prefix.size()));
      if (start < oldest_us || start < source.hidden_before_us) break;
      return Status::Ok();
    }
    source.valid = false;
    return Status::Ok();
  };
  std::vector<const InferenceSegment*> order;
  for (const InferenceSegment& segment : segments_) {
    const int64_t bound = std::min(segment.newest_start_us, newest_us);
    if (segment.hidden_before_us != kAllRowsHidden && bound >= oldest_us &&
        bound >= segment.hidden_before_us) {
      order.push_back(&segment);
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const InferenceSegment* a, const InferenceSegment* b) {
                     return a->newest_start_us > b->newest_start_us;
                   });
  auto open = [&](const InferenceSegment& segment) -> Status {
    const InferenceSlotTables& slot = SlotOf(segment);
    const MDB_dbi dbi = index == InferenceIndex::kTime    ? slot.by_time
                        : index == InferenceIndex::kModel ? slot.by_model
                                                          : slot.by_task;
    Source source{txn.OpenCursor(dbi), segment.hidden_before_us, false};
    HT_ASSIGN_OR_RETURN(source.valid, source.cursor->Seek(resuming ? resume : first));
    if (source.valid && resuming && source.cursor->key() == resume) {
      HT_ASSIGN_OR_RETURN(source.valid, source.cursor->Next());
    }
    HT_RETURN_IF_ERROR(settle(source));
    if (source.valid) sources.push_back(std::move(source));
    return Status::Ok();
  };
  size_t opened = 0;
  while (true) {
    Source* next = nullptr;
    for (Source& source : sources) {
      if (source.valid && (next == nullptr || source.cursor->key() < next->cursor->key())) {
        next = &source;
      }
    }
    // A segment whose newest row starts at or after the next row's start
    // may hold a row before it (the same start, a smaller id).
    if (opened < order.size() &&
        (next == nullptr ||
         order[opened]->newest_start_us >= StartOf(next->cursor->key().substr(prefix.size())))) {
      HT_RETURN_IF_ERROR(open(*order[opened++]));
      continue;
    }
    if (next == nullptr) return Status::Ok();
    const std::string_view position = next->cursor->key().substr(prefix.size());
    if (!visit(position, IdOf(position))) return Status::Ok();
    HT_ASSIGN_OR_RETURN(next->valid, next->cursor->Next());
    HT_RETURN_IF_ERROR(settle(*next));
  }
}

Status InferenceTable::ScanOldestFirst(
    Txn& txn, const InferenceSegment& segment, int64_t before_us,
    const std::function<bool(int64_t start_us, uint64_t id)>& visit) const {
  auto cursor = txn.OpenCursor(SlotOf(segment).by_time);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Last());
  while (valid) {
    const std::string_view key = cursor->key();
    if (key.size() != kTimeKeyBytes) {
      return Status::DataLoss("inference_by_time: a key is corrupt");
    }
    const int64_t start = StartOf(key);
    if (start >= before_us) break;
    if (start >= segment.hidden_before_us && !visit(start, IdOf(key))) return Status::Ok();
    HT_ASSIGN_OR_RETURN(valid, cursor->Prev());
  }
  return Status::Ok();
}

Status InferenceTable::ScanSegment(
    Txn& txn, const InferenceSegment& segment, int64_t from_start_us,
    const std::function<Result<bool>(const InferenceRecord&)>& visit) const {
  const InferenceSlotTables& slot = SlotOf(segment);
  auto cursor = txn.OpenCursor(slot.by_time);
  const IdTable<InferenceRecord> records = Records(slot);
  // The oldest row starting at from_start_us or later: the entry before the
  // first one of an older start (keys order rows newest first).
  bool valid = false;
  if (from_start_us <= 0) {
    HT_ASSIGN_OR_RETURN(valid, cursor->Last());
  } else {
    HT_ASSIGN_OR_RETURN(const bool older, cursor->Seek(TimeKey(from_start_us - 1, 0)));
    HT_ASSIGN_OR_RETURN(valid, older ? cursor->Prev() : cursor->Last());
  }
  while (valid) {
    const std::string_view key = cursor->key();
    if (key.size() != kTimeKeyBytes) {
      return Status::DataLoss("inference_by_time: a key is corrupt");
    }
    const uint64_t id = IdOf(key);
    HT_ASSIGN_OR_RETURN(std::optional<InferenceRecord> record, records.Find(txn, id));
    if (!record) {
      return Status::DataLoss("inference_by_time: entry without row " + std::to_string(id));
    }
    HT_ASSIGN_OR_RETURN(const bool more, visit(*record));
    if (!more) return Status::Ok();
    HT_ASSIGN_OR_RETURN(valid, cursor->Prev());
  }
  return Status::Ok();
}

Status InferenceTable::ForEachRow(Txn& txn,
                                  const std::function<bool(InferenceRecord&&)>& visit) const {
  for (const InferenceSegment& segment : segments_) {
    bool more = true;
    HT_RETURN_IF_ERROR(
        Records(SlotOf(segment)).ScanAfter(txn, 0, [&](uint64_t, InferenceRecord&& record) {
          if (record.start_us() < segment.hidden_before_us) return true;
          more = visit(std::move(record));
          return more;
        }));
    if (!more) break;
  }
  return Status::Ok();
}

namespace {

// The start time of the first (newest) or last (oldest) entry of a by_time
// table; nullopt when it is empty.
Result<std::optional<int64_t>> EdgeStart(Txn& txn, MDB_dbi by_time, bool newest) {
  auto cursor = txn.OpenCursor(by_time);
  HT_ASSIGN_OR_RETURN(const bool any, newest ? cursor->First() : cursor->Last());
  if (!any) return std::optional<int64_t>();
  if (cursor->key().size() != kTimeKeyBytes) {
    return Status::DataLoss("inference_by_time: a key is corrupt");
  }
  return std::optional<int64_t>(InferenceTable::StartOf(cursor->key()));
}

}  // namespace

Result<std::optional<int64_t>> InferenceTable::NewestStart(Txn& txn,
                                                           const InferenceSegment& segment) const {
  return EdgeStart(txn, SlotOf(segment).by_time, true);
}

Result<std::optional<int64_t>> InferenceTable::OldestStart(Txn& txn,
                                                           const InferenceSegment& segment) const {
  return EdgeStart(txn, SlotOf(segment).by_time, false);
}

Result<uint64_t> InferenceTable::Rows(Txn& txn, const InferenceSegment& segment) const {
  return txn.Count(SlotOf(segment).requests);
}

Result<uint64_t> InferenceTable::AllRows(Txn& txn) const {
  uint64_t all = 0;
  for (const InferenceSegment& segment : segments_) {
    HT_ASSIGN_OR_RETURN(const uint64_t rows, Rows(txn, segment));
    all += rows;
  }
  return all;
}

Result<bool> InferenceTable::StartSegment(WriteTxn& txn) {
  if (segments_.size() >= kInferenceSlots) return false;
  // Above every id stored and at most the next one issued.
  HT_ASSIGN_OR_RETURN(const uint64_t last, Records(SlotOf(segments_.back())).LastId(txn));
  HT_RETURN_IF_ERROR(AppendSegment(txn, std::max(last + 1, segments_.back().first_id + 1)));
  return true;
}

Status InferenceTable::UpdateSegment(WriteTxn& txn, const InferenceSegment& segment) {
  for (InferenceSegment& mine : segments_) {
    if (mine.number != segment.number) continue;
    mine.hidden_before_us = segment.hidden_before_us;
    mine.texts_queued_through = segment.texts_queued_through;
    mine.stored = true;
    return PutSegment(txn, mine);
  }
  return Status::NotFound("inference_segments: no segment " + std::to_string(segment.number));
}

Status InferenceTable::DropSegment(WriteTxn& txn, const InferenceSegment& segment) {
  auto it = std::find_if(segments_.begin(), segments_.end(),
                         [&](const InferenceSegment& s) { return s.number == segment.number; });
  if (it == segments_.end() || it + 1 == segments_.end()) {
    return Status::FailedPrecondition("inference_segments: segment " +
                                      std::to_string(segment.number) + " is not an older segment");
  }
  const InferenceSlotTables& slot = SlotOf(*it);
  for (MDB_dbi dbi : {slot.requests, slot.by_time, slot.by_model, slot.by_task}) {
    HT_RETURN_IF_ERROR(txn.Clear(dbi));
  }
  if (it->stored) HT_RETURN_IF_ERROR(txn.Del(t_.inference_segments, Be64Key(it->number)).status());
  segments_.erase(it);
  return Status::Ok();
}

}  // namespace hartonomous::storage
