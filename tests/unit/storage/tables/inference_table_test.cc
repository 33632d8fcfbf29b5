// The inference tables' key encodings and scans over a real LMDB
// environment: newest first by time, model and task, resuming after a
// position, time bounds, oldest-first for pruning, request ids, removal;
// aggregate keys and their windowed scan; activation keys.
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
             const std::string& request_id = "") {
  InferenceRecord r;
  r.set_model_id(model);
  r.set_task_type(task);
  r.set_start_us(start);
  r.set_request_id(request_id);
  return testing::InsertCommitted<InferenceTable>(t, &r);
}

std::vector<uint64_t> Newest(testing::TempEnv& t, InferenceIndex index, const std::string& value,
                             int64_t newest, int64_t oldest, const std::string& after = "",
                             std::vector<std::string>* positions = nullptr) {
  ReadTxn txn(t.env());
  std::vector<uint64_t> ids;
  REQUIRE(InferenceTable(t.tables())
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

TEST_CASE("Inference scans by time, model and task with bounds and resume",
          "[inference_table]") {
  testing::TempEnv t;
  const uint64_t a = Log(t, 1, "chat", 100);
  const uint64_t b = Log(t, 2, "chat", 300);
  const uint64_t c = Log(t, 1, "embeddings", 200);
  const uint64_t d = Log(t, 0, "chat", 300);
  CHECK(Newest(t, InferenceIndex::kTime, "", INT64_MAX, 0) == std::vector<uint64_t>{b, d, c, a});
  CHECK(Newest(t, InferenceIndex::kModel, Be64Key(1), INT64_MAX, 0) ==
        std::vector<uint64_t>{c, a});
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
  REQUIRE(InferenceTable(t.tables())
              .ScanOldestFirst(txn, 300, [&](int64_t, uint64_t id) {
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
    auto found = InferenceTable(t.tables()).FindRequestId(txn, "req-1");
    REQUIRE(found.ok());
    CHECK(*found == std::optional<uint64_t>(id));
  }
  WriteTxn txn(t.env(), nullptr);
  const InferenceTable table(t.tables());
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
  CHECK(scan(std::nullopt) == std::vector<std::pair<uint64_t, int64_t>>{
                                  {0, 1}, {0, 2}, {1, 1}, {1, 2}, {5, 1}, {5, 2}});
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
