// SpatialSearch: spatial queries resolve points to atoms and say when a
// limit cut them; NearestByProjection and PointsOf use the collection's
// current projection; refits check their options, commit the new
// projection and swap in reprojected points.
#include "server/engine/vectors/spatial_search.h"

#include <catch2/catch.hpp>

#include "storage/tables/collection_table.h"
#include "storage/tables/embedding_table.h"
#include "tests/unit/engine/vectors/collaborators_fixture.h"

namespace hartonomous::engine {
namespace {

using namespace testing_parts;

struct Rows {
  std::vector<uint64_t> atoms;
  std::vector<std::vector<float>> vectors;
};

Rows AddRandom(Parts& p, const std::string& collection, size_t n, size_t dim) {
  Rows rows;
  rows.atoms = p.MakeAtoms(n);
  std::mt19937 rng(9);
  std::vector<EmbeddingInput> inputs;
  for (uint64_t id : rows.atoms) {
    rows.vectors.push_back(RandomVector(rng, dim));
    inputs.push_back({id, rows.vectors.back(), "", false});
  }
  REQUIRE(p.rows.Add(collection, std::nullopt, inputs).ok());
  return rows;
}

TEST_CASE("spatial query: hits are atoms, and a limit says when it cut") {
  Parts p;
  auto c = p.Create("c", FlatSpec(3));
  Rows rows = AddRandom(p, "c", 10, 3);
  SpatialQueryInput in;
  in.collection = "c";
  in.radius = 1e9;
  in.limit = 4;
  auto cut = p.spatial.Query(in);
  REQUIRE(cut.ok());
  CHECK(cut->hits.size() == 4);
  CHECK(cut->truncated);
  in.limit = 0;
  auto all = p.spatial.Query(in);
  REQUIRE(all.ok());
  CHECK(all->hits.size() == 10);
  CHECK_FALSE(all->truncated);
  for (const auto& hit : all->hits) {
    CHECK(std::find(rows.atoms.begin(), rows.atoms.end(), hit.atom_id) != rows.atoms.end());
  }
  in.collection = "nope";
  CHECK(p.spatial.Query(in).status().code() == Status::Code::kNotFound);
}

TEST_CASE("nearest by projection and the points of a row use the current projection") {
  Parts p;
  auto c = p.Create("c", FlatSpec(3));
  Rows rows = AddRandom(p, "c", 10, 3);
  auto nearest = p.spatial.NearestByProjection("c", rows.vectors[6], 1);
  REQUIRE(nearest.ok());
  REQUIRE(nearest->size() == 1);
  CHECK((*nearest)[0].atom_id == rows.atoms[6]);
  CHECK((*nearest)[0].distance == Approx(0).margin(1e-9));
  CHECK(p.spatial.NearestByProjection("c", {1, 2}, 1).status().message() ==
        "vector: 2 components but collection 'c' has dimension 3");

  storage::EmbeddingRecord row;
  row.set_collection_id(c->record.collection_id());
  storage::EmbeddingTable::SetVector(&row, rows.vectors[2]);
  auto points = p.spatial.PointsOf(row);
  REQUIRE(points.has_value());
  const index::Point3 fine = c->CurrentSpace()->Project(rows.vectors[2].data());
  CHECK(points->first.x == fine.x);
  CHECK(points->first.y == fine.y);
  CHECK(points->first.z == fine.z);
  const index::Point3 coarse = c->CurrentSpace()->Snap(fine);
  CHECK(points->second.x == coarse.x);
  row.set_collection_id(c->record.collection_id() + 1);
  CHECK_FALSE(p.spatial.PointsOf(row).has_value());
}

TEST_CASE("a refit commits its projection and swaps in reprojected points") {
  Parts p;
  auto c = p.Create("c", FlatSpec(8));
  AddRandom(p, "c", 40, 8);
  RefitSummary summary;
  RefitOptions bad;
  bad.kind = "umap";
  CHECK(p.spatial.Refit(*c, bad, &summary).message() ==
        "kind: unknown projection kind 'umap' (known: pca, random)");
  bad = RefitOptions{};
  bad.sample_size = 3;
  CHECK(p.spatial.Refit(*c, bad, &summary).message() == "sample_size: must be in 16..1000000");

  auto old_space = c->CurrentSpace();
  const uint64_t changes = c->changes.load();
  REQUIRE(p.spatial.Refit(*c, RefitOptions{}, &summary).ok());
  CHECK(summary.projection.version() == 1);
  CHECK(summary.projection.kind() == "pca");
  CHECK(summary.projection.fitted_rows() == 40);
  CHECK(summary.points == 40);
  CHECK(summary.reprojected == 40);
  CHECK(c->CurrentSpace() != old_space);
  CHECK(c->CurrentSpace()->version() == 1);
  CHECK(c->changes.load() == changes + 1);
  storage::ReadTxn txn(p.t.env());
  auto stored =
      storage::CollectionTable(p.t.tables()).FindProjection(txn, c->record.collection_id());
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  CHECK((*stored)->version() == 1);
  CHECK((*stored)->kind() == "pca");
}

TEST_CASE("a pca refit needs enough rows") {
  Parts p;
  auto c = p.Create("c", FlatSpec(8));
  AddRandom(p, "c", 5, 8);
  RefitSummary summary;
  Status s = p.spatial.Refit(*c, RefitOptions{}, &summary);
  CHECK(s.code() == Status::Code::kFailedPrecondition);
  CHECK(s.message().rfind("collection: 'c' has 5 embeddings", 0) == 0);
  CHECK(c->CurrentSpace()->version() == 0);
}

}  // namespace
}  // namespace hartonomous::engine
