// The inference tables' key encodings and scans over a real LMDB
// environment: newest first by time, model and task, resuming after a
// position, time bounds, oldest-first for pruning, request ids, removal;
// segments: rotation, scans and lookups across them, hidden rows, emptying
// a segment whole and reusing its slot; aggregate keys and their windowed
// scan; activation keys.
#include "storage/tables/inference_table.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "storage/key_codec.h"
#include "storage/tables/activation_table.h"
#include "storage/tables/inference_aggregate_table.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

uint64_t Log(testing::TempEnv& t, uint64_t model, const std::string& task, int64_t start,
             const std::string& request_id = "", SegmentPolicy policy = {}) {
  InferenceRecord r;
  r.set_model_id(model);
  r.set_task_type(task);
  r.set_start_us(start);
  r.set_request_id(request_id);
  WriteTxn txn(t.env(), nullptr);
  REQUIRE(txn.status().ok());
  auto table = InferenceTable::Open(txn, t.tables());
  REQUIRE(table.ok());
  Sequence ids(txn, t.tables().sequences, kInferenceIdSequence);
  auto id = table->Insert(txn, ids, &r, policy);
  REQUIRE(id.ok());
  REQUIRE(ids.Flush().ok());
  REQUIRE(txn.Commit().ok());
  return *id;
}

InferenceTable Open(Txn& txn, testing::TempEnv& t) {
  auto table = InferenceTable::Open(txn, t.tables());
  REQUIRE(table.ok());
  return std::move(*table);
}

std::vector<uint64_t> Newest(testing::TempEnv& t, InferenceIndex index, const std::string& value,
                             int64_t newest, int64_t oldest, const std::string& after = "",
                             std::vector<std::string>* positions = nullptr) {
  ReadTxn txn(t.env());
  std::vector<uint64_t> ids;
  REQUIRE(Open(txn, t)
              .ScanNewestFirst(txn, index, value, newest, oldest, after,
                               [&](std::string_view position, uint64_t id) {
                                 ids.push_back(id);
                                 if (positions != nullptr) positions->emplace_back(position);
                                 return true;
                               })
              .ok());
  return ids;
}

}  // namespace

TEST_CASE("Inference keys sort newest first", "[inference_table]") {
  CHECK(InferenceTable::TimeKey(200, 1) < InferenceTable::TimeKey(100, 1));
  CHECK(InferenceTable::TimeKey(100, 1) < InferenceTable::TimeKey(100, 2));
  const std::string key = InferenceTable::TimeKey(1234567, 99);
  REQUIRE(key.size() == 16);
  CHECK(InferenceTable::StartOf(key) == 1234567);
  CHECK(InferenceTable::IdOf(key) == 99);
  CHECK(InferenceTable::ModelKey(7, 5, 1) == Be64Key(7) + InferenceTable::TimeKey(5, 1));
  CHECK(InferenceTable::TaskKey("chat", 5, 1) ==
        std::string("chat") + '\0' + InferenceTable::TimeKey(5, 1));
}

TEST_CASE("Inference scans by time, model and task with bounds and resume", "[inference_table]") {
  testing::TempEnv t;
  const uint64_t a = Log(t, 1, "chat", 100);
  const uint64_t b = Log(t, 2, "chat", 300);
  const uint64_t c = Log(t, 1, "embeddings", 200);
  const uint64_t d = Log(t, 0, "chat", 300);
  CHECK(Newest(t, InferenceIndex::kTime, "", INT64_MAX, 0) == std::vector<uint64_t>{b, d, c, a});
  CHECK(Newest(t, InferenceIndex::kModel, Be64Key(1), INT64_MAX, 0) == std::vector<uint64_t>{c, a});
  CHECK(Newest(t, InferenceIndex::kModel, Be64Key(0), INT64_MAX, 0) == std::vector<uint64_t>{d});
  CHECK(Newest(t, InferenceIndex::kTask, "chat", INT64_MAX, 0) == std::vector<uint64_t>{b, d, a});
  CHECK(Newest(t, InferenceIndex::kTime, "", 299, 100) == std::vector<uint64_t>{c, a});
  CHECK(Newest(t, InferenceIndex::kTime, "", 300, 101) == std::vector<uint64_t>{b, d, c});
  std::vector<std::string> positions;
  Newest(t, InferenceIndex::kTime, "", INT64_MAX, 0, "", &positions);
  CHECK(Newest(t, InferenceIndex::kTime, "", INT64_MAX, 0, positions[1]) ==
        std::vector<uint64_t>{c, a});
  // Oldest first below a time, for pruning.
  ReadTxn txn(t.env());
  std::vector<uint64_t> old;
  const InferenceTable table = Open(txn, t);
  REQUIRE(table
              .ScanOldestFirst(txn, table.segments().back(), 300,
                               [&](int64_t, uint64_t id) {
                                 old.push_back(id);
                                 return true;
                               })
              .ok());
  CHECK(old == std::vector<uint64_t>{a, c});
}

TEST_CASE("Inference request ids find the row and go with it", "[inference_table]") {
  testing::TempEnv t;
  const uint64_t id = Log(t, 1, "chat", 100, "req-1");
  {
    ReadTxn txn(t.env());
    auto found = Open(txn, t).FindRequestId(txn, "req-1");
    REQUIRE(found.ok());
    CHECK(*found == std::optional<uint64_t>(id));
  }
  WriteTxn txn(t.env(), nullptr);
  const InferenceTable table = Open(txn, t);
  auto row = table.Find(txn, id);
  REQUIRE((row.ok() && *row));
  REQUIRE(table.Remove(txn, **row).ok());
  auto gone = table.FindRequestId(txn, "req-1");
  REQUIRE(gone.ok());
  CHECK(!*gone);
  for (MDB_dbi dbi : {t.tables().inference_requests, t.tables().inference_by_time,
                      t.tables().inference_by_model, t.tables().inference_by_task}) {
    auto n = txn.Count(dbi);
    REQUIRE(n.ok());
    CHECK(*n == 0);
  }
}

TEST_CASE("Inference segments rotate, merge in scans and empty whole", "[inference_table]") {
  testing::TempEnv t;
  // A segment is full at 2 rows (and at a third of all rows).
  const SegmentPolicy policy{2, 3};
  std::vector<uint64_t> ids;
  for (int64_t start : {100, 300, 200, 600, 500, 400}) {
    ids.push_back(Log(t, 1, "chat", start, "req-" + std::to_string(start), policy));
  }
  {
    ReadTxn txn(t.env());
    const InferenceTable table = Open(txn, t);
    // Without stored segments a dir has one, in slot 0; rotation stores it.
    REQUIRE(table.segments().size() == 3);
    CHECK(table.segments()[0].slot == 0);
    CHECK(table.segments()[0].first_id == 0);
    CHECK(table.segments()[1].first_id == ids[2]);
    CHECK(table.segments()[2].first_id == ids[4]);
    CHECK(table.segments()[1].slot != table.segments()[2].slot);
    // A segment that stopped taking rows keeps its newest row's start.
    CHECK(table.segments()[0].newest_start_us == 300);
    CHECK(table.segments()[1].newest_start_us == 600);
    CHECK(table.segments()[2].newest_start_us == kSegmentTakesRows);
    for (const InferenceSegment& segment : table.segments()) {
      auto rows = table.Rows(txn, segment);
      REQUIRE(rows.ok());
      CHECK(*rows == 2);
    }
    auto newest = table.NewestStart(txn, table.segments()[1]);
    auto oldest = table.OldestStart(txn, table.segments()[1]);
    REQUIRE((newest.ok() && oldest.ok()));
    CHECK(*newest == std::optional<int64_t>(600));
    CHECK(*oldest == std::optional<int64_t>(200));
    for (uint64_t id : ids) {
      auto row = table.Find(txn, id);
      REQUIRE((row.ok() && *row));
      CHECK((*row)->inference_id() == id);
    }
  }
  // Scans merge the segments newest first (an older segment's row at 600
  // before the newest segment's 500), and resume across them.
  CHECK(Newest(t, InferenceIndex::kTime, "", INT64_MAX, 0) ==
        std::vector<uint64_t>{ids[3], ids[4], ids[5], ids[1], ids[2], ids[0]});
  CHECK(Newest(t, InferenceIndex::kTime, "", 350, 0) ==
        std::vector<uint64_t>{ids[1], ids[2], ids[0]});
  CHECK(Newest(t, InferenceIndex::kTime, "", 550, 450) == std::vector<uint64_t>{ids[4]});
  CHECK(Newest(t, InferenceIndex::kTask, "chat", 450, 150) ==
        std::vector<uint64_t>{ids[5], ids[1], ids[2]});
  std::vector<std::string> positions;
  Newest(t, InferenceIndex::kModel, Be64Key(1), INT64_MAX, 0, "", &positions);
  REQUIRE(positions.size() == 6);
  CHECK(Newest(t, InferenceIndex::kModel, Be64Key(1), INT64_MAX, 0, positions[2]) ==
        std::vector<uint64_t>{ids[1], ids[2], ids[0]});

  // Hiding the middle segment's rows before 300: its row at 200 is gone for
  // readers, the one at 600 stays; scans from a start time see both.
  InferenceSegment middle;
  {
    WriteTxn txn(t.env(), nullptr);
    InferenceTable table = Open(txn, t);
    middle = table.segments()[1];
    middle.hidden_before_us = 300;
    REQUIRE(table.UpdateSegment(txn, middle).ok());
    REQUIRE(txn.Commit().ok());
  }
  CHECK(Newest(t, InferenceIndex::kTime, "", INT64_MAX, 0) ==
        std::vector<uint64_t>{ids[3], ids[4], ids[5], ids[1], ids[0]});
  {
    ReadTxn txn(t.env());
    const InferenceTable table = Open(txn, t);
    REQUIRE(table.segments()[1].emptying());
    auto hidden = table.Find(txn, ids[2]);
    REQUIRE(hidden.ok());
    CHECK(!*hidden);
    // ScanSegment: the segment's rows from a start time, hidden ones too.
    auto starts = [&](const InferenceSegment& segment, int64_t from) {
      std::vector<int64_t> found;
      REQUIRE(table
                  .ScanSegment(txn, segment, from,
                               [&](const InferenceRecord& r) -> Result<bool> {
                                 found.push_back(r.start_us());
                                 return true;
                               })
                  .ok());
      return found;
    };
    CHECK(starts(table.segments()[1], 0) == std::vector<int64_t>{200, 600});
    CHECK(starts(table.segments()[2], 450) == std::vector<int64_t>{500});
    std::vector<uint64_t> visible;
    REQUIRE(table
                .ForEachRow(txn,
                            [&](InferenceRecord&& r) {
                              visible.push_back(r.inference_id());
                              return true;
                            })
                .ok());
    CHECK(visible == std::vector<uint64_t>{ids[0], ids[1], ids[3], ids[4], ids[5]});
  }

  // Emptying the middle segment whole clears its tables and frees its slot;
  // the newest segment cannot be dropped.
  {
    WriteTxn txn(t.env(), nullptr);
    InferenceTable table = Open(txn, t);
    CHECK(table.DropSegment(txn, table.segments().back()).code() ==
          Status::Code::kFailedPrecondition);
    REQUIRE(table.DropSegment(txn, middle).ok());
    REQUIRE(table.segments().size() == 2);
    const InferenceSlotTables& slot = t.tables().inference_slots[middle.slot];
    for (MDB_dbi dbi : {slot.requests, slot.by_time, slot.by_model, slot.by_task}) {
      auto n = txn.Count(dbi);
      REQUIRE(n.ok());
      CHECK(*n == 0);
    }
    // A new newest segment takes the freed slot, above every stored id.
    auto started = table.StartSegment(txn);
    REQUIRE((started.ok() && *started));
    CHECK(table.segments()[1].newest_start_us == 500);
    CHECK(table.segments().back().slot == middle.slot);
    CHECK(table.segments().back().first_id == ids[5] + 1);
    REQUIRE(txn.Commit().ok());
  }
  const uint64_t later = Log(t, 1, "chat", 700, "", policy);
  CHECK(Newest(t, InferenceIndex::kTime, "", INT64_MAX, 0) ==
        std::vector<uint64_t>{later, ids[4], ids[5], ids[1], ids[0]});
  ReadTxn txn(t.env());
  const InferenceTable table = Open(txn, t);
  REQUIRE(table.segments().size() == 3);
  auto found = table.Find(txn, later);
  REQUIRE((found.ok() && *found));
  CHECK((*found)->start_us() == 700);
}

TEST_CASE("Aggregate keys round-trip and scans stay inside the window", "[inference_table]") {
  const AggregateKey key{AggregateGranularity::kHour, 9, 3 * kHourUs, "chat"};
  const std::string bytes = InferenceAggregateTable::Key(key);
  REQUIRE(bytes.size() == 17 + 4);
  CHECK(bytes[0] == 1);
  const AggregateKey decoded = InferenceAggregateTable::Decode(bytes);
  CHECK(decoded.model_id == 9);
  CHECK(decoded.bucket_start_us == 3 * kHourUs);
  CHECK(decoded.task_type == "chat");

  testing::TempEnv t;
  const InferenceAggregateTable table(t.tables());
  {
    WriteTxn txn(t.env(), nullptr);
    InferenceAggregateRecord one;
    one.set_count(1);
    for (uint64_t model : {0, 1, 5}) {
      for (int64_t minute : {0, 1, 2, 3}) {
        REQUIRE(table.Put(txn, {AggregateGranularity::kMinute, model, minute * kMinuteUs, "t"}, one)
                    .ok());
      }
    }
    REQUIRE(table.Put(txn, {AggregateGranularity::kHour, 1, 0, "t"}, one).ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  auto scan = [&](std::optional<uint64_t> model) {
    std::vector<std::pair<uint64_t, int64_t>> seen;
    REQUIRE(table
                .Scan(txn, AggregateGranularity::kMinute, model, kMinuteUs, 3 * kMinuteUs,
                      [&](const AggregateKey& k, InferenceAggregateRecord&&) {
                        seen.emplace_back(k.model_id, k.bucket_start_us / kMinuteUs);
                        return true;
                      })
                .ok());
    return seen;
  };
  CHECK(scan(std::nullopt) ==
        std::vector<std::pair<uint64_t, int64_t>>{{0, 1}, {0, 2}, {1, 1}, {1, 2}, {5, 1}, {5, 2}});
  CHECK(scan(5) == std::vector<std::pair<uint64_t, int64_t>>{{5, 1}, {5, 2}});
  CHECK(scan(4).empty());
}

TEST_CASE("Activation keys are the layer id and the 32-byte input hash", "[inference_table]") {
  const std::string hash(32, '\x7f');
  CHECK(ActivationTable::Key(3, hash) == Be64Key(3) + hash);
  testing::TempEnv t;
  const ActivationTable table(t.tables());
  WriteTxn txn(t.env(), nullptr);
  CachedActivationRecord record;
  record.set_layer_id(3);
  record.set_input_hash(hash);
  record.set_data("abcd");
  REQUIRE(table.Put(txn, record).ok());
  auto found = table.Find(txn, 3, hash);
  REQUIRE((found.ok() && *found));
  CHECK((*found)->data() == "abcd");
  auto removed = table.RemoveLayer(txn, 3);
  REQUIRE(removed.ok());
  CHECK(*removed == 1);
}
