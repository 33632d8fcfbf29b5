// IdTable, NamedTable (through PolicyTable) and MetaTable over a real LMDB
// environment: round trips, absent keys, name uniqueness and corrupt rows.
#include <catch2/catch.hpp>

#include "storage/key_codec.h"
#include "storage/tables/meta_table.h"
#include "storage/tables/policy_table.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

PolicyRecord Named(const std::string& name) {
  PolicyRecord p;
  p.set_policy_name(name);
  p.set_hash_enabled(true);
  p.set_metadata(R"({"k":1})");
  return p;
}

uint64_t InsertCommitted(testing::TempEnv& t, PolicyRecord* record) {
  return testing::InsertCommitted<PolicyTable>(t, record);
}

}  // namespace

TEST_CASE("named table: insert assigns increasing ids and reads back by id and by name") {
  testing::TempEnv t;
  PolicyTable table(t.tables());
  PolicyRecord a = Named("alpha");
  PolicyRecord b = Named("beta");
  const uint64_t ida = InsertCommitted(t, &a);
  const uint64_t idb = InsertCommitted(t, &b);
  CHECK(ida >= 1);
  CHECK(idb == ida + 1);
  CHECK(a.policy_id() == ida);

  ReadTxn txn(t.env());
  REQUIRE(txn.status().ok());
  auto by_id = table.Find(txn, idb);
  REQUIRE(by_id.ok());
  REQUIRE(by_id->has_value());
  CHECK((*by_id)->policy_name() == "beta");
  CHECK((*by_id)->metadata() == R"({"k":1})");
  auto by_name = table.FindByName(txn, "alpha");
  REQUIRE(by_name.ok());
  REQUIRE(by_name->has_value());
  CHECK((*by_name)->policy_id() == ida);
  auto got = table.records().Get(txn, ida);
  REQUIRE(got.ok());
  CHECK(got->policy_name() == "alpha");
}

TEST_CASE("named table: absent id or name is nullopt, Get is NOT_FOUND naming the table") {
  testing::TempEnv t;
  PolicyTable table(t.tables());
  ReadTxn txn(t.env());
  REQUIRE(txn.status().ok());
  auto by_id = table.Find(txn, 42);
  REQUIRE(by_id.ok());
  CHECK_FALSE(by_id->has_value());
  auto by_name = table.FindByName(txn, "nobody");
  REQUIRE(by_name.ok());
  CHECK_FALSE(by_name->has_value());
  auto got = table.records().Get(txn, 42);
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == Status::Code::kNotFound);
  CHECK(got.status().message() == "dedup_policies: no record 42");
}

TEST_CASE("named table: a used name is ALREADY_EXISTS and the failed insert writes nothing") {
  testing::TempEnv t;
  PolicyTable table(t.tables());
  PolicyRecord a = Named("alpha");
  InsertCommitted(t, &a);
  WriteTxn txn(t.env(), nullptr);
  PolicyRecord again = Named("alpha");
  auto id = table.Insert(txn, &again);
  REQUIRE_FALSE(id.ok());
  CHECK(id.status().code() == Status::Code::kAlreadyExists);
  CHECK(id.status().message() == "policy_name: a policy named 'alpha' already exists");
  auto count = txn.Count(t.tables().dedup_policies);
  REQUIRE(count.ok());
  CHECK(*count == 1);
}

TEST_CASE("named table: update renames, refuses a taken name, remove deletes both rows") {
  testing::TempEnv t;
  PolicyTable table(t.tables());
  PolicyRecord a = Named("alpha");
  PolicyRecord b = Named("beta");
  InsertCommitted(t, &a);
  InsertCommitted(t, &b);
  {
    WriteTxn txn(t.env(), nullptr);
    PolicyRecord renamed = a;
    renamed.set_policy_name("beta");
    Status taken = table.Update(txn, "alpha", renamed);
    CHECK(taken.code() == Status::Code::kAlreadyExists);
    renamed.set_policy_name("gamma");
    REQUIRE(table.Update(txn, "alpha", renamed).ok());
    REQUIRE(txn.Commit().ok());
  }
  {
    ReadTxn txn(t.env());
    auto old_name = table.FindId(txn, "alpha");
    REQUIRE(old_name.ok());
    CHECK_FALSE(old_name->has_value());
    auto new_name = table.FindByName(txn, "gamma");
    REQUIRE(new_name.ok());
    REQUIRE(new_name->has_value());
    CHECK((*new_name)->policy_id() == a.policy_id());
  }
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(table.Remove(txn, b).ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  auto gone = table.FindByName(txn, "beta");
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
  auto gone_id = table.Find(txn, b.policy_id());
  REQUIRE(gone_id.ok());
  CHECK_FALSE(gone_id->has_value());
}

TEST_CASE("named table: a corrupt record or name entry is DATA_LOSS naming the table") {
  testing::TempEnv t;
  PolicyTable table(t.tables());
  PolicyRecord a = Named("alpha");
  const uint64_t id = InsertCommitted(t, &a);
  {
    WriteTxn txn(t.env(), nullptr);
    // Not a protobuf: field 15, wire type 7 does not exist.
    REQUIRE(txn.Put(t.tables().dedup_policies, Be64Key(id), "\xff\xff\xff").ok());
    REQUIRE(txn.Put(t.tables().policy_names, "short", "abc").ok());
    REQUIRE(txn.Put(t.tables().policy_names, "dangling", Be64Key(999)).ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  auto corrupt = table.FindByName(txn, "alpha");
  REQUIRE_FALSE(corrupt.ok());
  CHECK(corrupt.status().code() == Status::Code::kDataLoss);
  CHECK(corrupt.status().message() ==
        "dedup_policies: record " + std::to_string(id) + " is corrupt");
  auto short_entry = table.FindId(txn, "short");
  REQUIRE_FALSE(short_entry.ok());
  CHECK(short_entry.status().code() == Status::Code::kDataLoss);
  auto dangling = table.FindByName(txn, "dangling");
  REQUIRE_FALSE(dangling.ok());
  CHECK(dangling.status().code() == Status::Code::kDataLoss);
  CHECK(dangling.status().message() == "policy_names: 'dangling' has no record");
  // A scan stops at the corrupt row with the same error.
  Status scanned = table.records().ScanAfter(txn, 0, [](uint64_t, PolicyRecord&&) { return true; });
  CHECK(scanned.code() == Status::Code::kDataLoss);
}

TEST_CASE("id table: scan after an id in id order, stop on request, last id") {
  testing::TempEnv t;
  PolicyTable table(t.tables());
  {
    ReadTxn txn(t.env());
    auto last = table.records().LastId(txn);
    REQUIRE(last.ok());
    CHECK(*last == 0);
  }
  std::vector<uint64_t> ids;
  for (const char* name : {"a", "b", "c", "d"}) {
    PolicyRecord p = Named(name);
    ids.push_back(InsertCommitted(t, &p));
  }
  ReadTxn txn(t.env());
  std::vector<std::string> seen;
  REQUIRE(table.records()
              .ScanAfter(txn, ids[0],
                         [&](uint64_t id, PolicyRecord&& r) {
                           CHECK(id == r.policy_id());
                           seen.push_back(r.policy_name());
                           return seen.size() < 2;
                         })
              .ok());
  CHECK(seen == std::vector<std::string>{"b", "c"});
  auto last = table.records().LastId(txn);
  REQUIRE(last.ok());
  CHECK(*last == ids.back());
  auto contains = table.records().Contains(txn, ids[2]);
  REQUIRE(contains.ok());
  CHECK(*contains);
}

TEST_CASE("meta table: round trip and absent key") {
  testing::TempEnv t;
  MetaTable meta(t.tables());
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(meta.Put(txn, "marker", "value").ok());
    REQUIRE(meta.PutTime(txn, "when", 1234567).ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  auto marker = meta.Find(txn, "marker");
  REQUIRE(marker.ok());
  REQUIRE(marker->has_value());
  CHECK(**marker == "value");
  auto when = meta.Find(txn, "when");
  REQUIRE(when.ok());
  REQUIRE(when->has_value());
  CHECK(ReadBe64(**when) == 1234567);
  auto absent = meta.Find(txn, "nothing");
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());
}
