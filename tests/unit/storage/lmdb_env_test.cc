#include "storage/lmdb_env.h"

#include <catch2/catch.hpp>

#include "storage/key_codec.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

TEST_CASE("big-endian keys sort in numeric order") {
  CHECK(Be64Key(1) < Be64Key(256));
  CHECK(Be64Key(255) < Be64Key(256));
  CHECK(ReadBe64(Be64Key(0x0102030405060708ull)) == 0x0102030405060708ull);
}

TEST_CASE("write, read back and iterate in key order") {
  testing::TempEnv t;
  const MDB_dbi dbi = t.tables().atoms;
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(txn.status().ok());
    for (uint64_t k : {30, 10, 20}) REQUIRE(txn.Put(dbi, Be64Key(k), "v" + std::to_string(k)).ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  REQUIRE(txn.status().ok());
  std::string_view value;
  REQUIRE(*txn.Get(dbi, Be64Key(20), &value));
  CHECK(value == "v20");
  CHECK_FALSE(*txn.Get(dbi, Be64Key(99), &value));
  auto cursor = txn.OpenCursor(dbi);
  std::vector<uint64_t> keys;
  for (bool ok = *cursor->First(); ok; ok = *cursor->Next())
    keys.push_back(ReadBe64(cursor->key()));
  CHECK(keys == std::vector<uint64_t>{10, 20, 30});
  REQUIRE(*cursor->Seek(Be64Key(11)));
  CHECK(ReadBe64(cursor->key()) == 20);
  CHECK(*txn.Count(dbi) == 3);
}

TEST_CASE("a nested transaction that aborts leaves its parent's writes") {
  testing::TempEnv t;
  const MDB_dbi dbi = t.tables().atoms;
  WriteTxn parent(t.env(), nullptr);
  REQUIRE(parent.Put(dbi, "a", "1").ok());
  bool child_hook = false, parent_hook = false;
  {
    WriteTxn child(t.env(), &parent);
    REQUIRE(child.status().ok());
    REQUIRE(child.Put(dbi, "b", "2").ok());
    child.OnCommit([&] { child_hook = true; });
    child.Abort();
  }
  {
    WriteTxn child(t.env(), &parent);
    REQUIRE(child.Put(dbi, "c", "3").ok());
    child.OnCommit([&] { parent_hook = true; });
    REQUIRE(child.Commit().ok());
  }
  auto hooks = parent.TakeOnCommit();
  REQUIRE(parent.Commit().ok());
  for (auto& h : hooks) h();
  CHECK_FALSE(child_hook);
  CHECK(parent_hook);
  ReadTxn read(t.env());
  std::string_view v;
  CHECK(*read.Get(dbi, "a", &v));
  CHECK_FALSE(*read.Get(dbi, "b", &v));
  CHECK(*read.Get(dbi, "c", &v));
}

TEST_CASE("DelPrefix removes exactly the keys with the prefix") {
  testing::TempEnv t;
  const MDB_dbi dbi = t.tables().atom_embeddings;
  WriteTxn txn(t.env(), nullptr);
  for (uint64_t owner : {1, 2, 3}) {
    for (int i = 0; i < 5; ++i) {
      std::string key = Be64Key(owner);
      key.push_back(static_cast<char>(i));
      REQUIRE(txn.Put(dbi, key, "x").ok());
    }
  }
  CHECK(*txn.DelPrefix(dbi, Be64Key(2)) == 5);
  CHECK(*txn.DelPrefix(dbi, Be64Key(2)) == 0);
  CHECK(*txn.Count(dbi) == 10);
  CHECK(*txn.DelPrefix(dbi, Be64Key(3)) == 5);
  CHECK(*txn.Count(dbi) == 5);
}

TEST_CASE("a full map reports map_full and grows") {
  testing::TempEnv t(size_t{1} << 20);  // 1 MiB
  const MDB_dbi dbi = t.tables().atom_payload;
  const std::string big(256 << 10, 'z');
  bool saw_full = false;
  {
    WriteTxn txn(t.env(), nullptr);
    for (uint64_t i = 0; i < 16 && !saw_full; ++i) {
      Status s = txn.Put(dbi, Be64Key(i), big);
      if (!s.ok()) {
        CHECK(s.code() == Status::Code::kResourceExhausted);
        saw_full = txn.map_full();
      }
    }
  }
  REQUIRE(saw_full);
  const size_t before = t.env().map_size();
  REQUIRE(t.env().Grow().ok());
  CHECK(t.env().map_size() == 2 * before);
  CHECK(t.env().resizes() == 1);
}
