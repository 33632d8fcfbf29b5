#include "storage/tables/inference_table.h"

#include <utility>

#include "storage/key_codec.h"
#include "storage/sequence.h"

namespace hartonomous::storage {
namespace {

constexpr size_t kTimeKeyBytes = 16;

std::string TaskPrefix(std::string_view task_type) {
  std::string prefix(task_type);
  prefix.push_back('\0');
  return prefix;
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

Result<uint64_t> InferenceTable::Insert(WriteTxn& txn, InferenceRecord* record) const {
  Sequence ids(txn, t_.sequences, kInferenceIdSequence);
  HT_ASSIGN_OR_RETURN(uint64_t id, Insert(txn, ids, record));
  HT_RETURN_IF_ERROR(ids.Flush());
  return id;
}

Result<uint64_t> InferenceTable::Insert(WriteTxn& txn, Sequence& ids,
                                        InferenceRecord* record) const {
  HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
  record->set_inference_id(id);
  const int64_t start = record->start_us();
  HT_RETURN_IF_ERROR(records_.Put(txn, id, *record));
  HT_RETURN_IF_ERROR(txn.Put(t_.inference_by_time, TimeKey(start, id), ""));
  HT_RETURN_IF_ERROR(txn.Put(t_.inference_by_model, ModelKey(record->model_id(), start, id), ""));
  HT_RETURN_IF_ERROR(txn.Put(t_.inference_by_task, TaskKey(record->task_type(), start, id), ""));
  if (!record->request_id().empty()) {
    HT_RETURN_IF_ERROR(txn.Put(t_.inference_request_ids, record->request_id(), Be64Key(id)));
  }
  return id;
}

Status InferenceTable::Remove(WriteTxn& txn, const InferenceRecord& record) const {
  const uint64_t id = record.inference_id();
  const int64_t start = record.start_us();
  HT_RETURN_IF_ERROR(records_.Remove(txn, id).status());
  HT_RETURN_IF_ERROR(txn.Del(t_.inference_by_time, TimeKey(start, id)).status());
  HT_RETURN_IF_ERROR(
      txn.Del(t_.inference_by_model, ModelKey(record.model_id(), start, id)).status());
  HT_RETURN_IF_ERROR(
      txn.Del(t_.inference_by_task, TaskKey(record.task_type(), start, id)).status());
  if (!record.request_id().empty()) {
    HT_RETURN_IF_ERROR(txn.Del(t_.inference_request_ids, record.request_id()).status());
  }
  return Status::Ok();
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
  MDB_dbi dbi = t_.inference_by_time;
  const char* name = "inference_by_time";
  std::string prefix;
  switch (index) {
    case InferenceIndex::kTime:
      break;
    case InferenceIndex::kModel:
      dbi = t_.inference_by_model;
      name = "inference_by_model";
      prefix = std::string(value);
      break;
    case InferenceIndex::kTask:
      dbi = t_.inference_by_task;
      name = "inference_by_task";
      prefix = TaskPrefix(value);
      break;
  }
  if (newest_us < oldest_us) return Status::Ok();
  auto cursor = txn.OpenCursor(dbi);
  const std::string first = prefix + TimeKey(newest_us, 0);
  const std::string resume = prefix + std::string(after);
  const bool resuming = !after.empty() && resume > first;
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(resuming ? resume : first));
  if (valid && resuming && cursor->key() == resume) {
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  while (valid) {
    const std::string_view key = cursor->key();
    if (key.substr(0, prefix.size()) != prefix) break;
    const std::string_view position = key.substr(prefix.size());
    if (position.size() != kTimeKeyBytes) {
      return Status::DataLoss(std::string(name) + ": a key is corrupt");
    }
    if (StartOf(position) < oldest_us) break;
    if (!visit(position, IdOf(position))) return Status::Ok();
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Status InferenceTable::ScanOldestFirst(
    Txn& txn, int64_t before_us,
    const std::function<bool(int64_t start_us, uint64_t id)>& visit) const {
  auto cursor = txn.OpenCursor(t_.inference_by_time);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Last());
  while (valid) {
    const std::string_view key = cursor->key();
    if (key.size() != kTimeKeyBytes) {
      return Status::DataLoss("inference_by_time: a key is corrupt");
    }
    const int64_t start = StartOf(key);
    if (start >= before_us) break;
    if (!visit(start, IdOf(key))) return Status::Ok();
    HT_ASSIGN_OR_RETURN(valid, cursor->Prev());
  }
  return Status::Ok();
}

}  // namespace hartonomous::storage
