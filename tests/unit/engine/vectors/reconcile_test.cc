// Reconcile: an index and a space are brought in line with the rows in
// LMDB: missing rows added (in chunks, with progress and cancellation),
// labels without a row removed, damaged rows reported as DATA_LOSS.
#include "server/engine/vectors/reconcile.h"

#include <catch2/catch.hpp>

#include "storage/tables/embedding_table.h"
#include "tests/unit/engine/vectors/collaborators_fixture.h"

namespace hartonomous::engine {
namespace {

using namespace testing_parts;

struct Fresh {
  std::unique_ptr<index::VectorIndex> index;
  std::unique_ptr<CollectionSpace> space;
};

Fresh Empty(const Collection& c) {
  Fresh f;
  f.index = std::move(index::IndexRegistry::Default().Create(c.spec)).value();
  f.space =
      std::move(CollectionSpace::Make(c.record, CollectionSpace::DefaultRecord(c.record))).value();
  return f;
}

// Reconcile of f's index (and space, with_space) with c's rows, over a read
// transaction of its own.
Status ReconcileFresh(Parts& p, const Collection& c, Fresh& f, bool with_space, size_t threads,
                      ReconcileCounts* counts, const LoadObserver* observer = nullptr) {
  storage::ReadTxn txn(p.t.env());
  return Reconcile(txn, p.t.tables(), c.record, f.index.get(), with_space ? f.space.get() : nullptr,
                   threads, counts, observer);
}

std::vector<uint64_t> AddRows(Parts& p, const std::string& collection,
                              const std::vector<uint64_t>& atoms, size_t dim) {
  std::mt19937 rng(11);
  std::vector<EmbeddingInput> inputs;
  for (uint64_t id : atoms) inputs.push_back({id, RandomVector(rng, dim), "", false});
  auto added = p.rows.Add(collection, std::nullopt, inputs);
  REQUIRE(added.ok());
  return added->embedding_ids;
}

TEST_CASE("reconcile adds the rows an index and a space lack and removes labels without a row") {
  Parts p;
  auto c = p.Create("c", FlatSpec(4));
  auto ids = AddRows(p, "c", p.MakeAtoms(30), 4);
  Fresh f = Empty(*c);
  // The index already holds one row and a label whose row is gone.
  std::vector<float> v(4, 0.5f);
  REQUIRE(f.index->Add(ids[0], v.data()).ok());
  REQUIRE(f.index->Add(ids.back() + 100, v.data()).ok());
  REQUIRE(f.space->Upsert(ids.back() + 100, v.data()).ok());

  ReconcileCounts counts;
  REQUIRE(ReconcileFresh(p, *c, f, true, 2, &counts).ok());
  CHECK(counts.added == 29);
  CHECK(counts.removed == 1);
  CHECK(counts.projected == 30);
  CHECK(counts.max_seen == ids.back());
  CHECK(f.index->size() == 30);
  CHECK_FALSE(f.index->Contains(ids.back() + 100));
  CHECK(f.space->fine().size() == 30);
  CHECK_FALSE(f.space->Contains(ids.back() + 100));

  // Caught up: a second pass changes nothing.
  ReconcileCounts again;
  REQUIRE(ReconcileFresh(p, *c, f, true, 2, &again).ok());
  CHECK(again.added == 0);
  CHECK(again.removed == 0);
  CHECK(again.projected == 0);
}

TEST_CASE("reconcile reports progress per chunk and stops when cancelled") {
  Parts p;
  auto c = p.Create("c", FlatSpec(2));
  AddRows(p, "c", p.MakeAtoms(kReplayChunk + 100), 2);
  std::vector<std::pair<uint64_t, uint64_t>> progress;
  LoadObserver observer;
  observer.progress = [&](const std::string& name, uint64_t done, uint64_t total) {
    CHECK(name == "c");
    progress.emplace_back(done, total);
  };
  SECTION("to the end") {
    Fresh f = Empty(*c);
    ReconcileCounts counts;
    REQUIRE(ReconcileFresh(p, *c, f, false, 1, &counts, &observer).ok());
    const uint64_t total = kReplayChunk + 100;
    CHECK(progress == std::vector<std::pair<uint64_t, uint64_t>>{
                          {0, total}, {kReplayChunk, total}, {total, total}});
    CHECK(counts.added == total);
  }
  SECTION("cancelled after the first chunk") {
    observer.cancelled = [] { return true; };
    Fresh f = Empty(*c);
    ReconcileCounts counts;
    Status s = ReconcileFresh(p, *c, f, false, 1, &counts, &observer);
    CHECK(s.code() == Status::Code::kAborted);
    CHECK(s.message() == "collection 'c': loading stopped after 2048 of 2148 vectors");
    CHECK(counts.added == kReplayChunk);
    CHECK(progress.size() == 2);
  }
}

TEST_CASE("reconcile refuses a row of the wrong dimension as DATA_LOSS") {
  Parts p;
  auto c = p.Create("c", FlatSpec(4));
  auto atoms = p.MakeAtoms(1);
  {
    storage::WriteTxn txn(p.t.env(), nullptr);
    storage::EmbeddingRecord row;
    row.set_embedding_id(77);
    row.set_atom_id(atoms[0]);
    row.set_collection_id(c->record.collection_id());
    row.set_embedding_type("text");
    row.set_model_id(1);
    storage::EmbeddingTable::SetVector(&row, {1, 2, 3});
    REQUIRE(storage::EmbeddingTable(p.t.tables()).Put(txn, row).ok());
    REQUIRE(txn.Commit().ok());
  }
  Fresh f = Empty(*c);
  ReconcileCounts counts;
  Status s = ReconcileFresh(p, *c, f, false, 1, &counts);
  CHECK(s.code() == Status::Code::kDataLoss);
  CHECK(s.message() == "atom_embeddings: embedding 77 has the wrong dimension");
}

}  // namespace
}  // namespace hartonomous::engine
