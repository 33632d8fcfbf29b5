// AtomPoints: atoms' spatial keys indexed by id catch-up, purges, snapshots.
#include "server/engine/atoms/atom_points.h"

#include <catch2/catch.hpp>
#include <set>

#include "server/engine/atoms/atom_engine.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

AtomInput Keyed(const std::string& content, double x, double y, double z) {
  AtomInput in;
  in.content = content;
  in.modality = "text";
  in.spatial_key = index::Point3{x, y, z};
  return in;
}

SpatialQueryInput Around(index::Point3 center, double radius) {
  SpatialQueryInput in;
  in.shape = SpatialQueryInput::Shape::kRadius;
  in.center = center;
  in.radius = radius;
  return in;
}

std::set<uint64_t> Ids(const SpatialQueryResult& r) {
  std::set<uint64_t> ids;
  for (const auto& h : r.hits) ids.insert(h.atom_id);
  return ids;
}

struct Fixture {
  testing::TempEnv t;
  storage::WriteBatcher writer{t.env()};
  AtomEngine atoms{t.env(), t.tables(), writer, std::string(32, 'k')};
  std::unique_ptr<AtomPoints> points = Make();

  std::unique_ptr<AtomPoints> Make() {
    auto p = std::make_unique<AtomPoints>(t.env(), t.tables());
    return p;
  }
  uint64_t Ingest(AtomInput in) {
    auto r = atoms.Ingest({std::move(in)});
    REQUIRE(r.ok());
    return r->atoms[0].atom_id;
  }
};

}  // namespace

TEST_CASE("atom points catch up by id, skip atoms without a key and forget purged ones") {
  Fixture f;
  f.atoms.AddDependentRemover(
      [&](storage::WriteTxn& txn, uint64_t id) { return f.points->OnRemove(txn, id); });
  const uint64_t a = f.Ingest(Keyed("a", 0, 0, 0));
  const uint64_t b = f.Ingest(Keyed("b", 1, 0, 0));
  AtomInput plain;
  plain.content = "no key";
  plain.modality = "text";
  f.Ingest(plain);
  auto r = f.points->Query(Around({0, 0, 0}, 10));
  REQUIRE(r.ok());
  CHECK(Ids(*r) == std::set<uint64_t>{a, b});
  CHECK(r->hits[0].atom_id == a);
  CHECK(r->hits[1].distance == 1);
  // Stored after the last query: found by the next one.
  const uint64_t c = f.Ingest(Keyed("c", 0, 2, 0));
  CHECK(Ids(*f.points->Query(Around({0, 0, 0}, 10))) == std::set<uint64_t>{a, b, c});
  // Purged: gone from answers and from the tree.
  REQUIRE(f.atoms.Delete(b).ok());
  REQUIRE(f.atoms.PurgeInactive(0).ok());
  CHECK(Ids(*f.points->Query(Around({0, 0, 0}, 10))) == std::set<uint64_t>{a, c});
  CHECK(f.points->size() == 2);
}

TEST_CASE("atom point snapshots restore the points, later atoms and purges are caught up") {
  Fixture f;
  f.atoms.AddDependentRemover(
      [&](storage::WriteTxn& txn, uint64_t id) { return f.points->OnRemove(txn, id); });
  std::vector<uint64_t> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(f.Ingest(Keyed("p" + std::to_string(i), i, 0, 0)));
  REQUIRE(f.points->Query(Around({0, 0, 0}, 1000))->hits.size() == 50);
  const std::string path = f.t.dir() + "/atom_points.snap";
  REQUIRE(f.points->SaveSnapshot(path).ok());

  // After the snapshot: one more atom, one purged (its commit hook reaches
  // the old object only, as when the daemon was down).
  const uint64_t late = f.Ingest(Keyed("late", 100, 0, 0));
  REQUIRE(f.atoms.Delete(ids[7]).ok());
  REQUIRE(f.atoms.PurgeInactive(0).ok());

  auto restored = f.Make();
  CHECK(restored->LoadSnapshot(path).ok());
  CHECK(restored->size() == 50);  // straight from the file, before any query
  auto all = restored->Query(Around({0, 0, 0}, 1000));
  REQUIRE(all.ok());
  std::set<uint64_t> expected(ids.begin(), ids.end());
  expected.erase(ids[7]);
  expected.insert(late);
  CHECK(Ids(*all) == expected);
  CHECK(restored->size() == 50);  // +late, -the purged one

  CHECK(f.Make()->LoadSnapshot(f.t.dir() + "/none.snap").code() == Status::Code::kNotFound);
}
