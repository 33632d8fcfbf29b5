// Env::FreeBytes, page reuse after deletes, and Env::Compact: the file
// shrinks, every row and every table handle survives the swap, the data is
// there after a reopen, and a leftover copy of a crashed compaction is
// replaced.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "storage/key_codec.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "tests/binary_content.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

constexpr size_t kValueBytes = 3000;  // two values per 4 KiB page at most

// Writes rows [first, first + count) of the atoms table, 100 per commit.
void PutRows(Env& env, MDB_dbi dbi, uint64_t first, uint64_t count, uint32_t seed) {
  for (uint64_t done = 0; done < count;) {
    WriteTxn txn(env, nullptr);
    REQUIRE(txn.status().ok());
    for (int i = 0; i < 100 && done < count; ++i, ++done) {
      const uint64_t key = first + done;
      REQUIRE(txn.Put(dbi, Be64Key(key),
                      testing::BinaryContent(kValueBytes, seed + static_cast<uint32_t>(key)))
                  .ok());
    }
    REQUIRE(txn.Commit().ok());
  }
}

void DeleteRows(Env& env, MDB_dbi dbi, const std::vector<uint64_t>& keys) {
  WriteTxn txn(env, nullptr);
  REQUIRE(txn.status().ok());
  for (uint64_t key : keys) REQUIRE(*txn.Del(dbi, Be64Key(key)));
  REQUIRE(txn.Commit().ok());
}

// One small commit: LMDB reuses the pages a commit frees only from the
// second commit after it (see storage/write_batcher.h).
void TouchMeta(Env& env, const Tables& tables) {
  WriteTxn txn(env, nullptr);
  REQUIRE(txn.Put(tables.meta, "touch", "1").ok());
  REQUIRE(txn.Commit().ok());
}

// An environment in dir that tests open, close and open again.
EnvOptions OptionsIn(const testing::TempDir& dir) {
  EnvOptions options;
  options.path = dir.dir();
  options.initial_map_size = size_t{64} << 20;
  return options;
}

uint64_t DataFileBytes(const std::string& dir) {
  return std::filesystem::file_size(std::filesystem::path(dir) / "data.mdb");
}

}  // namespace

TEST_CASE("deleted rows' pages are on the freelist and the next writes reuse them",
          "[storage][compact]") {
  testing::TempEnv t;
  const MDB_dbi dbi = t.tables().atoms;
  CHECK(*t.env().FreeBytes() < uint64_t{64} << 10);  // a fresh env: a few pages at most
  PutRows(t.env(), dbi, 0, 2000, 1);
  const uint64_t used_full = t.env().used_bytes();
  std::vector<uint64_t> all;
  for (uint64_t k = 0; k < 2000; ++k) all.push_back(k);
  DeleteRows(t.env(), dbi, all);
  // Every page of the 2,000 rows (about 6 MB) is free now.
  CHECK(*t.env().FreeBytes() >= 2000 * kValueBytes);
  TouchMeta(t.env(), t.tables());
  // The same amount of different content again: written into the freed
  // pages, so the file grows by less than a tenth (the freelist's own
  // pages and the tree's pages written before their predecessors are
  // reusable), where no reuse would double it.
  PutRows(t.env(), dbi, 10000, 2000, 7);
  CHECK(t.env().used_bytes() <= used_full + used_full / 10);
  ReadTxn txn(t.env());
  CHECK(*txn.Count(dbi) == 2000);
}

TEST_CASE("Compact shrinks the data file and keeps every row and every table handle",
          "[storage][compact]") {
  testing::TempDir dir;
  const EnvOptions options = OptionsIn(dir);
  std::map<uint64_t, std::string> kept;
  uint64_t before = 0, after = 0;
  {
    auto env = Env::Open(options);
    REQUIRE(env.ok());
    auto tables = OpenTables(**env);
    REQUIRE(tables.ok());
    const MDB_dbi dbi = tables->atoms;
    PutRows(**env, dbi, 0, 3000, 3);
    std::vector<uint64_t> odd;
    for (uint64_t k = 0; k < 3000; ++k) {
      if (k % 2 == 1) {
        odd.push_back(k);
      } else {
        kept[k] = testing::BinaryContent(kValueBytes, 3 + static_cast<uint32_t>(k));
      }
    }
    DeleteRows(**env, dbi, odd);
    REQUIRE(*(*env)->FreeBytes() > 0);
    before = DataFileBytes(dir.dir());

    auto compacted = (*env)->Compact();
    REQUIRE(compacted.ok());
    CHECK(compacted->file_bytes_before == before);
    after = DataFileBytes(dir.dir());
    CHECK(compacted->file_bytes_after == after);
    // Half of the rows are gone: the file is at most about half plus the
    // branch pages.
    CHECK(after < before * 6 / 10);
    CHECK(*(*env)->FreeBytes() == 0);
    CHECK_FALSE(std::filesystem::exists(std::filesystem::path(dir.dir()) / kCompactFileName));

    // The handles in Tables still name the same tables: read and write
    // through them.
    {
      ReadTxn txn(**env);
      REQUIRE(txn.status().ok());
      CHECK(*txn.Count(dbi) == kept.size());
      for (const auto& [key, value] : kept) {
        std::string_view got;
        REQUIRE(*txn.Get(dbi, Be64Key(key), &got));
        REQUIRE(got == value);
      }
      std::string_view version;
      REQUIRE(*txn.Get(tables->meta, "schema_version", &version));
      CHECK(ReadBe32(version) == kSchemaVersion);
    }
    PutRows(**env, dbi, 5000, 10, 9);
    kept[5000] = testing::BinaryContent(kValueBytes, 9 + 5000);
  }
  // Reopened from disk, as after a restart.
  auto env = Env::Open(options);
  REQUIRE(env.ok());
  auto tables = OpenTables(**env);
  REQUIRE(tables.ok());
  ReadTxn txn(**env);
  REQUIRE(txn.status().ok());
  CHECK(*txn.Count(tables->atoms) == kept.size() + 9);
  for (const auto& [key, value] : kept) {
    std::string_view got;
    REQUIRE(*txn.Get(tables->atoms, Be64Key(key), &got));
    REQUIRE(got == value);
  }
}

TEST_CASE("Compact replaces the leftover copy of a compaction that crashed", "[storage][compact]") {
  testing::TempEnv t;
  PutRows(t.env(), t.tables().atoms, 0, 50, 5);
  const auto leftover = std::filesystem::path(t.dir()) / kCompactFileName;
  {
    std::ofstream junk(leftover, std::ios::binary);
    junk << std::string(100000, 'x');
  }
  auto compacted = t.env().Compact();
  REQUIRE(compacted.ok());
  CHECK_FALSE(std::filesystem::exists(leftover));
  ReadTxn txn(t.env());
  CHECK(*txn.Count(t.tables().atoms) == 50);
}

namespace {

size_t LeafPages(Env& env, MDB_dbi dbi) {
  ReadTxn txn(env);
  MDB_stat stat;
  REQUIRE(mdb_stat(txn.raw(), dbi, &stat) == 0);
  return stat.ms_leaf_pages;
}

// Every (key, value) of a table, in LMDB's order (duplicates too).
std::vector<std::pair<std::string, std::string>> Rows(Env& env, MDB_dbi dbi) {
  ReadTxn txn(env);
  std::vector<std::pair<std::string, std::string>> rows;
  MDB_cursor* cursor = nullptr;
  REQUIRE(mdb_cursor_open(txn.raw(), dbi, &cursor) == 0);
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    rows.emplace_back(std::string(static_cast<const char*>(k.mv_data), k.mv_size),
                      std::string(static_cast<const char*>(v.mv_data), v.mv_size));
  }
  mdb_cursor_close(cursor);
  return rows;
}

}  // namespace

TEST_CASE("Compact rewrites pages that random inserts left part full into full pages",
          "[storage][compact]") {
  testing::TempEnv t;
  const MDB_dbi dbi = t.tables().atom_hash;  // keys in random order, as hash prefixes are
  auto dups = t.env().OpenDbi("test_dups", MDB_DUPSORT);
  REQUIRE(dups.ok());
  uint64_t x = 88172645463325252ull;  // xorshift64: a fixed pseudo-random key order
  for (int commit = 0; commit < 100; ++commit) {
    WriteTxn txn(t.env(), nullptr);
    for (int i = 0; i < 50; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      REQUIRE(txn.Put(dbi, Be64Key(x), std::string(60, static_cast<char>('a' + i % 26))).ok());
      REQUIRE(txn.Put(*dups, Be64Key(x % 97), Be64Key(x)).ok());
    }
    REQUIRE(txn.Commit().ok());
  }
  const auto rows = Rows(t.env(), dbi);
  const auto dup_rows = Rows(t.env(), *dups);
  REQUIRE(rows.size() == 5000);
  REQUIRE(dup_rows.size() == 5000);
  // 5,000 nodes of 8 + 60 bytes and an 8-byte header each fill about 95
  // pages of 4 KiB; split in the middle by random inserts, they take more.
  const size_t leaves_before = LeafPages(t.env(), dbi);
  CHECK(leaves_before > 110);

  auto compacted = t.env().Compact();
  REQUIRE(compacted.ok());
  CHECK(compacted->repacked);
  const size_t leaves_after = LeafPages(t.env(), dbi);
  CHECK(leaves_after <= 100);
  CHECK(leaves_after < leaves_before);
  CHECK(Rows(t.env(), dbi) == rows);
  CHECK(Rows(t.env(), *dups) == dup_rows);
  CHECK(*t.env().FreeBytes() == 0);
}

TEST_CASE("Compact copies pages as they are when the file holds a table not opened",
          "[storage][compact]") {
  testing::TempDir dir;
  const EnvOptions options = OptionsIn(dir);
  {
    auto env = Env::Open(options);
    REQUIRE(env.ok());
    REQUIRE(OpenTables(**env).ok());
    auto stray = (*env)->OpenDbi("stray", 0);
    REQUIRE(stray.ok());
    WriteTxn txn(**env, nullptr);
    REQUIRE(txn.Put(*stray, "kept", "by the page copy").ok());
    REQUIRE(txn.Commit().ok());
  }
  {
    auto env = Env::Open(options);
    REQUIRE(env.ok());
    auto tables = OpenTables(**env);
    REQUIRE(tables.ok());
    PutRows(**env, tables->atoms, 0, 20, 1);
    auto compacted = (*env)->Compact();
    REQUIRE(compacted.ok());
    CHECK_FALSE(compacted->repacked);
    ReadTxn txn(**env);
    CHECK(*txn.Count(tables->atoms) == 20);
  }
  auto env = Env::Open(options);
  REQUIRE(env.ok());
  auto stray = (*env)->OpenDbi("stray", 0);
  REQUIRE(stray.ok());
  ReadTxn txn(**env);
  std::string_view value;
  REQUIRE(*txn.Get(*stray, "kept", &value));
  CHECK(value == "by the page copy");
}
