// PendingReleaseTable over a real LMDB environment: counts add up per atom,
// the scan walks atoms in id order and can stop, removal, and refusal of a
// zero count and of a damaged entry.
#include "storage/tables/pending_release_table.h"

#include <catch2/catch.hpp>
#include <utility>
#include <vector>

#include "storage/key_codec.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

std::vector<std::pair<uint64_t, uint64_t>> Queued(testing::TempEnv& t, size_t limit = 100) {
  ReadTxn txn(t.env());
  std::vector<std::pair<uint64_t, uint64_t>> out;
  REQUIRE(PendingReleaseTable(t.tables())
              .Scan(txn,
                    [&](uint64_t atom_id, uint64_t references) {
                      out.emplace_back(atom_id, references);
                      return out.size() < limit;
                    })
              .ok());
  return out;
}

}  // namespace

TEST_CASE("pending releases add up per atom and are scanned in atom-id order") {
  testing::TempEnv t;
  const PendingReleaseTable queue(t.tables());
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(queue.Add(txn, 300, 2).ok());
    REQUIRE(queue.Add(txn, 7, 1).ok());
    REQUIRE(queue.Add(txn, 300, 5).ok());
    REQUIRE(queue.Add(txn, uint64_t{1} << 40, 1).ok());
    REQUIRE(txn.Commit().ok());
  }
  using Entries = std::vector<std::pair<uint64_t, uint64_t>>;
  CHECK(Queued(t) == Entries{{7, 1}, {300, 7}, {uint64_t{1} << 40, 1}});
  CHECK(Queued(t, 2) == Entries{{7, 1}, {300, 7}});
  {
    ReadTxn txn(t.env());
    CHECK(*queue.Count(txn) == 3);
  }
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(queue.Remove(txn, 300).ok());
    REQUIRE(queue.Remove(txn, 12345).ok());  // absent: nothing
    REQUIRE(txn.Commit().ok());
  }
  CHECK(Queued(t) == Entries{{7, 1}, {uint64_t{1} << 40, 1}});
}

TEST_CASE("pending releases refuse a zero count and report a damaged entry") {
  testing::TempEnv t;
  const PendingReleaseTable queue(t.tables());
  WriteTxn txn(t.env(), nullptr);
  Status zero = queue.Add(txn, 5, 0);
  CHECK(zero.code() == Status::Code::kInvalidArgument);
  CHECK(zero.message().find("references") != std::string::npos);
  REQUIRE(txn.Put(t.tables().atom_pending_releases, Be64Key(9), "bad").ok());
  Status damaged = queue.Add(txn, 9, 1);
  CHECK(damaged.code() == Status::Code::kDataLoss);
  CHECK(damaged.message().find("atom_pending_releases") != std::string::npos);
  Status scan = queue.Scan(txn, [](uint64_t, uint64_t) { return true; });
  CHECK(scan.code() == Status::Code::kDataLoss);
}
