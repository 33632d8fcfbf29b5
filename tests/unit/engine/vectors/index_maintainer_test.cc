// IndexMaintainer: snapshots carry the applied watermark and Load catches up
// from them; deletes past the threshold ask for a rebuild, which maintenance
// performs; a deleted collection's snapshots go with it.
#include "server/engine/vectors/index_maintainer.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/unit/engine/vectors/collaborators_fixture.h"

namespace hartonomous::engine {
namespace {

namespace fs = std::filesystem;
using namespace testing_parts;

EmbeddingEngineOptions WithSnapshots(const std::string& dir) {
  EmbeddingEngineOptions options = QuietOptions();
  options.snapshot_dir = dir;
  options.snapshot_after_replay = 0;
  return options;
}

std::vector<uint64_t> AddRows(Parts& p, const std::string& collection,
                              const std::vector<uint64_t>& atoms) {
  std::mt19937 rng(3);
  std::vector<EmbeddingInput> inputs;
  for (uint64_t id : atoms) inputs.push_back({id, RandomVector(rng, 4), "", false});
  auto added = p.rows.Add(collection, std::nullopt, inputs);
  REQUIRE(added.ok());
  return added->embedding_ids;
}

TEST_CASE("a snapshot records the applied watermark and Load catches up from it") {
  testing::TempDir dir;
  Parts p(WithSnapshots(dir.dir()));
  auto c = p.Create("c", FlatSpec(4));
  auto atoms = p.MakeAtoms(20);
  auto first = AddRows(p, "c", atoms);
  CHECK(c->Info().snapshot.changes_since_snapshot == 20);
  REQUIRE(p.maintainer.Snapshot(*c).ok());
  SnapshotInfo info = c->Info().snapshot;
  CHECK(info.watermark == first.back());
  CHECK(info.saved_at_us > 0);
  CHECK(info.changes_since_snapshot == 0);
  const fs::path collection_dir = fs::path(dir.dir()) / std::to_string(c->record.collection_id());
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(collection_dir)) {
    const std::string name = entry.path().filename().string();
    CHECK(name.size() > 26);
    CHECK(name.substr(name.size() - 26) ==
          "-" + std::string(20 - std::to_string(first.back()).size(), '0') +
              std::to_string(first.back()) + ".snap");
    ++files;
  }
  CHECK(files == 2);  // the index and the fine points

  auto later = AddRows(p, "c", p.MakeAtoms(5, "later "));
  REQUIRE(p.rows.Delete("c", atoms[0]).ok());  // a row of the snapshot

  // A second set of collaborators on the same data, as after a crash.
  CollectionRegistry collections(p.t.env(), p.t.tables(), index::IndexRegistry::Default());
  SpatialSearch spatial(p.t.env(), p.t.tables(), p.writer, collections);
  IndexMaintainer maintainer(p.t.env(), p.t.tables(), p.options, index::IndexRegistry::Default(),
                             collections, spatial);
  REQUIRE(maintainer.Load({}).ok());
  CHECK(maintainer.totals().collections == 1);
  CHECK(maintainer.totals().replayed == 5);
  CHECK(maintainer.totals().removed == 1);
  auto loaded = collections.Find("c");
  REQUIRE(loaded != nullptr);
  CHECK(loaded->CurrentIndex()->size() == 24);
  CHECK(loaded->CurrentSpace()->fine().size() == 24);
  CHECK(loaded->applied_seq == later.back());
  SnapshotInfo start = loaded->Info().snapshot;
  CHECK(start.loaded_from_snapshot);
  CHECK(start.watermark == first.back());
  CHECK(start.replayed_at_start == 5);
  CHECK(start.removed_at_start == 1);
}

TEST_CASE("deletes past the threshold want a rebuild, and maintenance rebuilds") {
  EmbeddingEngineOptions options = QuietOptions();
  options.rebuild_min_deleted = 3;
  options.rebuild_deleted_fraction = 0.3;
  Parts p(options);
  CollectionSpec spec = FlatSpec(4);
  spec.index_kind = "hnsw";
  auto c = p.Create("c", spec);
  auto atoms = p.MakeAtoms(8);
  AddRows(p, "c", atoms);
  REQUIRE(p.rows.Delete("c", atoms[0]).ok());
  REQUIRE(p.rows.Delete("c", atoms[1]).ok());
  CHECK_FALSE(c->rebuild_wanted);  // 2 deleted: under rebuild_min_deleted
  REQUIRE(p.rows.Delete("c", atoms[2]).ok());
  CHECK(c->rebuild_wanted);  // 3 of 8
  auto before = c->CurrentIndex();
  CHECK(before->deleted() == 3);
  p.maintainer.RunMaintenance(false);
  CHECK_FALSE(c->rebuild_wanted);
  auto after = c->CurrentIndex();
  CHECK(after != before);
  CHECK(after->deleted() == 0);
  CHECK(after->size() == 5);
}

TEST_CASE("snapshots: disabled without a directory, removed with their collection") {
  {
    Parts p;
    auto c = p.Create("c", FlatSpec(4));
    CHECK(p.maintainer.Snapshot(*c).code() == Status::Code::kFailedPrecondition);
    CHECK(p.maintainer.SnapshotAll().ok());  // nothing to do
  }
  testing::TempDir dir;
  Parts p(WithSnapshots(dir.dir()));
  auto c = p.Create("c", FlatSpec(4));
  AddRows(p, "c", p.MakeAtoms(3));
  REQUIRE(p.maintainer.SnapshotAll().ok());
  const fs::path collection_dir = fs::path(dir.dir()) / std::to_string(c->record.collection_id());
  REQUIRE(fs::exists(collection_dir));
  REQUIRE(p.writer
              .Write([&](storage::WriteTxn& txn) {
                return p.collections.Remove(
                    txn, "c", [&](Collection& gone) { p.maintainer.DropSnapshots(gone); });
              })
              .ok());
  CHECK_FALSE(fs::exists(collection_dir));
  // A dropped collection is never snapshotted again.
  CHECK(p.maintainer.Snapshot(*c).ok());
  CHECK_FALSE(fs::exists(collection_dir));
}

}  // namespace
}  // namespace hartonomous::engine
