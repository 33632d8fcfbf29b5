// EmbeddingEngine's spatial side: projected points kept in step with writes,
// spatial queries, refits (on request and automatic), point snapshots and
// the hybrid search with atom filters.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "tests/unit/engine/vectors/embedding_fixture.h"

namespace hartonomous::engine {
namespace {

using namespace testing_fixture;

double Dist(const index::Point3& a, const index::Point3& b) {
  return std::sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y) +
                   (a.z - b.z) * (a.z - b.z));
}

// Reopens f's engine cleanly, fitting a collection's projection once it holds
// n vectors (0: only on request).
void ReopenFittingAfter(Fixture& f, uint64_t n) {
  f.options.projection_fit_after = n;
  f.Reopen(true);
}

// The version of collection "c"'s projection (0: not fitted).
uint64_t ProjectionVersion(Fixture& f) {
  return f.embeddings->GetCollection("c")->projection.version();
}

// Every live row's (embedding id -> atom id, fine point, coarse point).
struct Projected {
  uint64_t atom_id;
  index::Point3 fine, coarse;
};
std::map<uint64_t, Projected> AllPoints(Fixture& f, const std::vector<uint64_t>& atoms,
                                        const std::string& collection) {
  std::map<uint64_t, Projected> out;
  for (uint64_t atom : atoms) {
    auto rows = f.embeddings->GetEmbeddings(atom, collection);
    REQUIRE(rows.ok());
    for (const auto& row : *rows) {
      auto points = f.embeddings->PointsOf(row);
      REQUIRE(points.has_value());
      out[row.embedding_id()] = Projected{atom, points->first, points->second};
    }
  }
  return out;
}

SpatialQueryInput Radius(const std::string& c, index::Point3 center, double r) {
  SpatialQueryInput in;
  in.collection = c;
  in.shape = SpatialQueryInput::Shape::kRadius;
  in.center = center;
  in.radius = r;
  return in;
}

TEST_CASE("every embedding gets a fine and a coarse point that follow writes") {
  Fixture f;
  const size_t dim = 16;
  auto atoms = f.MakeAtoms(200);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(dim, "hnsw", index::Metric::kL2)).ok());
  AddRandom(f, "c", atoms, dim, 1);
  auto info = f.embeddings->GetCollection("c");
  REQUIRE(info.ok());
  CHECK(info->points == 200);
  CHECK(info->projection.kind() == "random");
  CHECK(info->projection.version() == 0);
  const double cell = info->projection.coarse_cell();
  REQUIRE(cell > 0);

  auto points = AllPoints(f, atoms, "c");
  REQUIRE(points.size() == 200);
  for (const auto& [label, p] : points) {
    // The coarse point is the centre of the fine point's grid cell.
    CHECK(p.coarse.x == (std::floor(p.fine.x / cell) + 0.5) * cell);
    CHECK(p.coarse.y == (std::floor(p.fine.y / cell) + 0.5) * cell);
    CHECK(p.coarse.z == (std::floor(p.fine.z / cell) + 0.5) * cell);
    CHECK(Dist(p.fine, p.coarse) <= cell * std::sqrt(3.0) / 2);
  }
  // The fine index holds exactly those points: a zero radius at each finds it.
  for (const auto& [label, p] : points) {
    auto hits = f.embeddings->SpatialQuery(Radius("c", p.fine, 0));
    REQUIRE(hits.ok());
    REQUIRE(hits->hits.size() == 1);
    CHECK(hits->hits[0].embedding_id == label);
    CHECK(hits->hits[0].atom_id == p.atom_id);
    auto in = Radius("c", p.coarse, 0);
    in.space = SpatialSpace::kCoarse;
    auto coarse = f.embeddings->SpatialQuery(in);
    REQUIRE(coarse.ok());
    bool found = false;
    for (const auto& h : coarse->hits) found |= h.embedding_id == label;
    CHECK(found);
  }

  // A deleted embedding's point goes; a replaced one moves to the new id.
  const auto& [first_label, first] = *points.begin();
  REQUIRE(f.embeddings->DeleteEmbedding("c", first.atom_id).ok());
  CHECK(f.embeddings->SpatialQuery(Radius("c", first.fine, 0))->hits.empty());
  CHECK(f.embeddings->GetCollection("c")->points == 199);
  const auto& [second_label, second] = *std::next(points.begin());
  EmbeddingInput replacement;
  replacement.atom_id = second.atom_id;
  replacement.vector.assign(dim, 0.5f);
  auto added = f.embeddings->AddEmbeddings("c", std::nullopt, {replacement});
  REQUIRE(added.ok());
  CHECK(f.embeddings->SpatialQuery(Radius("c", second.fine, 0))->hits.empty());
  auto moved = AllPoints(f, {second.atom_id}, "c");
  REQUIRE(moved.size() == 1);
  auto hits = f.embeddings->SpatialQuery(Radius("c", moved.begin()->second.fine, 0));
  REQUIRE(hits->hits.size() == 1);
  CHECK(hits->hits[0].embedding_id == added->embedding_ids[0]);
  CHECK(f.embeddings->GetCollection("c")->points == 199);
}

TEST_CASE("spatial queries equal brute force over the projected points, for every spatial kind") {
  for (const std::string kind : {"rtree", "scan"}) {
    INFO(kind);
    Fixture f;
    const size_t dim = 12;
    auto atoms = f.MakeAtoms(400);
    CollectionSpec spec = Spec(dim, "flat", index::Metric::kL2);
    spec.spatial_kind = kind;
    REQUIRE(f.embeddings->CreateCollection("c", spec).ok());
    CHECK(f.embeddings->GetCollection("c")->record.spatial_kind() == kind);
    AddRandom(f, "c", atoms, dim, 2);
    auto points = AllPoints(f, atoms, "c");
    std::mt19937 rng(3);
    std::normal_distribution<double> g;
    for (int round = 0; round < 20; ++round) {
      const index::Point3 center{g(rng), g(rng), g(rng)};
      const double r = 0.5 + round * 0.1;
      std::set<uint64_t> expected;
      for (const auto& [label, p] : points) {
        if (Dist(p.fine, center) <= r) expected.insert(label);
      }
      auto got = f.embeddings->SpatialQuery(Radius("c", center, r));
      REQUIRE(got.ok());
      std::set<uint64_t> labels;
      for (const auto& h : got->hits) labels.insert(h.embedding_id);
      CHECK(labels == expected);
      CHECK_FALSE(got->truncated);

      SpatialQueryInput box;
      box.collection = "c";
      box.shape = SpatialQueryInput::Shape::kBox;
      box.min = {center.x - r, center.y - r, center.z - r};
      box.max = {center.x + r, center.y + r, center.z + r};
      expected.clear();
      for (const auto& [label, p] : points) {
        if (p.fine.x >= box.min.x && p.fine.x <= box.max.x && p.fine.y >= box.min.y &&
            p.fine.y <= box.max.y && p.fine.z >= box.min.z && p.fine.z <= box.max.z) {
          expected.insert(label);
        }
      }
      got = f.embeddings->SpatialQuery(box);
      labels.clear();
      for (const auto& h : got->hits) labels.insert(h.embedding_id);
      CHECK(labels == expected);

      SpatialQueryInput nearest;
      nearest.collection = "c";
      nearest.shape = SpatialQueryInput::Shape::kNearest;
      nearest.center = center;
      nearest.k = 7;
      std::vector<std::pair<double, uint64_t>> by_distance;
      for (const auto& [label, p] : points) by_distance.emplace_back(Dist(p.fine, center), label);
      std::sort(by_distance.begin(), by_distance.end());
      got = f.embeddings->SpatialQuery(nearest);
      REQUIRE(got->hits.size() == 7);
      for (size_t i = 0; i < 7; ++i) CHECK(got->hits[i].embedding_id == by_distance[i].second);
    }
    // A limit cuts the nearest-first list and says so.
    auto all = Radius("c", {0, 0, 0}, 100);
    all.limit = 10;
    auto cut = f.embeddings->SpatialQuery(all);
    REQUIRE(cut.ok());
    CHECK(cut->hits.size() == 10);
    CHECK(cut->truncated);
  }
}

TEST_CASE("the spatial kind is checked when a collection is created or extended") {
  Fixture f;
  CollectionSpec spec = Spec(4, "hnsw", index::Metric::kL2);
  spec.spatial_kind = "kdtree";
  auto bad = f.embeddings->CreateCollection("c", spec);
  CHECK(bad.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::StartsWith("spatial_index"));
  spec.spatial_kind = "scan";
  REQUIRE(f.embeddings->CreateCollection("c", spec).ok());
  auto atoms = f.MakeAtoms(1);
  EmbeddingInput in{atoms[0], {1, 2, 3, 4}, "", false};
  spec.spatial_kind = "rtree";
  auto mismatch = f.embeddings->AddEmbeddings("c", spec, {in});
  CHECK_THAT(mismatch.status().message(), Catch::StartsWith("create.spatial_index"));
  spec.spatial_kind.clear();  // unspecified: whatever the collection has
  CHECK(f.embeddings->AddEmbeddings("c", spec, {in}).ok());
  spec.spatial_kind = "octree";
  auto unknown = f.embeddings->AddEmbeddings("new", spec, {in});
  CHECK_THAT(unknown.status().message(), Catch::StartsWith("create.spatial_index"));
}

TEST_CASE("refit fits PCA, reports its scale, reprojects every point and survives restart") {
  Fixture f;
  ReopenFittingAfter(f, 0);  // only on request
  const size_t dim = 20;
  auto atoms = f.MakeAtoms(300);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(dim, "hnsw", index::Metric::kL2)).ok());
  // Variance concentrated on the first three components.
  std::mt19937 rng(4);
  std::normal_distribution<float> g;
  std::vector<EmbeddingInput> inputs;
  for (uint64_t atom : atoms) {
    EmbeddingInput in;
    in.atom_id = atom;
    for (size_t i = 0; i < dim; ++i)
      in.vector.push_back(g(rng) * (i == 0 ? 9.0f : i == 1 ? 5.0f : i == 2 ? 3.0f : 0.5f));
    inputs.push_back(in);
  }
  REQUIRE(f.embeddings->AddEmbeddings("c", std::nullopt, inputs).ok());
  auto before = AllPoints(f, atoms, "c");

  RefitOptions options;
  options.sample_size = 100;
  auto refit = f.embeddings->RefitProjection("c", options);
  REQUIRE(refit.ok());
  CHECK(refit->projection.kind() == "pca");
  CHECK(refit->projection.version() == 1);
  CHECK(refit->projection.fitted_rows() == 100);
  CHECK(refit->points == 300);
  CHECK(refit->reprojected == 300);
  // PCA orders its axes by spread; the spreads are the data's.
  CHECK(refit->projection.scale_x() == Approx(9.0).epsilon(0.25));
  CHECK(refit->projection.scale_y() == Approx(5.0).epsilon(0.25));
  CHECK(refit->projection.scale_z() == Approx(3.0).epsilon(0.25));
  CHECK(refit->projection.coarse_cell() ==
        Approx((refit->projection.scale_x() + refit->projection.scale_y() +
                refit->projection.scale_z()) /
               12));
  auto after = AllPoints(f, atoms, "c");
  size_t moved = 0;
  for (const auto& [label, p] : after) moved += !(p.fine == before.at(label).fine);
  CHECK(moved == 300);
  for (const auto& [label, p] : after) {
    auto hits = f.embeddings->SpatialQuery(Radius("c", p.fine, 0));
    REQUIRE(hits->hits.size() >= 1);
    CHECK(hits->hits[0].embedding_id == label);
  }

  // As after kill -9: the fitted projection is durable and the points are
  // recomputed from it.
  f.Reopen(/*clean=*/false);
  auto info = f.embeddings->GetCollection("c");
  REQUIRE(info.ok());
  CHECK(info->projection.version() == 1);
  CHECK(info->projection.kind() == "pca");
  CHECK(info->points == 300);
  auto reopened = AllPoints(f, atoms, "c");
  for (const auto& [label, p] : after) CHECK(reopened.at(label).fine == p.fine);
  for (const auto& [label, p] : reopened) {
    auto hits = f.embeddings->SpatialQuery(Radius("c", p.fine, 0));
    REQUIRE(hits->hits.size() >= 1);
    CHECK(hits->hits[0].embedding_id == label);
  }

  // A given coarse cell is kept.
  options.coarse_cell = 2.5;
  options.kind = "random";
  refit = f.embeddings->RefitProjection("c", options);
  REQUIRE(refit.ok());
  CHECK(refit->projection.kind() == "random");
  CHECK(refit->projection.version() == 2);
  CHECK(refit->projection.coarse_cell() == 2.5);
}

TEST_CASE("bad refits are refused and change nothing") {
  Fixture f;
  auto atoms = f.MakeAtoms(10);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(8, "hnsw", index::Metric::kL2)).ok());
  AddRandom(f, "c", atoms, 8, 5);
  RefitOptions options;
  auto refit = f.embeddings->RefitProjection("c", options);  // 10 rows < 16
  CHECK(refit.status().code() == Status::Code::kFailedPrecondition);
  CHECK_THAT(refit.status().message(), Catch::Contains("at least 16"));
  options.kind = "umap";
  CHECK(f.embeddings->RefitProjection("c", options).status().code() ==
        Status::Code::kInvalidArgument);
  options.kind = "random";
  options.sample_size = 3;
  CHECK_THAT(f.embeddings->RefitProjection("c", options).status().message(),
             Catch::StartsWith("sample_size"));
  options.sample_size = 100;
  options.coarse_cell = std::nan("");
  CHECK_THAT(f.embeddings->RefitProjection("c", options).status().message(),
             Catch::StartsWith("coarse_cell"));
  CHECK(f.embeddings->RefitProjection("nope", RefitOptions{}).status().code() ==
        Status::Code::kNotFound);
  CHECK(ProjectionVersion(f) == 0);
}

TEST_CASE("a collection is fitted automatically once it holds projection_fit_after vectors") {
  Fixture f;
  ReopenFittingAfter(f, 100);
  auto atoms = f.MakeAtoms(100);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(10, "hnsw", index::Metric::kL2)).ok());
  AddRandom(f, "c", std::vector<uint64_t>(atoms.begin(), atoms.begin() + 99), 10, 6);
  f.embeddings->RunMaintenance(false);
  CHECK(ProjectionVersion(f) == 0);
  AddRandom(f, "c", {atoms.back()}, 10, 7);
  f.embeddings->RunMaintenance(false);
  auto info = f.embeddings->GetCollection("c");
  CHECK(info->projection.kind() == "pca");
  CHECK(info->projection.version() == 1);
  CHECK(info->projection.fitted_rows() == 100);
  CHECK(info->points == 100);
  // Once fitted, more vectors do not refit.
  auto more = f.MakeAtoms(50, "more ");
  AddRandom(f, "c", more, 10, 8);
  f.embeddings->RunMaintenance(false);
  CHECK(ProjectionVersion(f) == 1);
}

TEST_CASE("a collection past the fit threshold at start is fitted by the first maintenance pass") {
  Fixture f;
  ReopenFittingAfter(f, 0);
  auto atoms = f.MakeAtoms(40);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(6, "hnsw", index::Metric::kL2)).ok());
  AddRandom(f, "c", atoms, 6, 13);
  f.embeddings->RunMaintenance(false);
  CHECK(ProjectionVersion(f) == 0);
  ReopenFittingAfter(f, 30);
  CHECK(ProjectionVersion(f) == 0);
  f.embeddings->RunMaintenance(false);
  CHECK(f.embeddings->GetCollection("c")->projection.kind() == "pca");
  // A threshold below what PCA needs waits for 16 vectors.
  ReopenFittingAfter(f, 2);
  auto few = f.MakeAtoms(10, "few ");
  REQUIRE(f.embeddings->CreateCollection("d", Spec(6, "hnsw", index::Metric::kL2, "other")).ok());
  AddRandom(f, "d", few, 6, 14);
  f.embeddings->RunMaintenance(false);
  CHECK(f.embeddings->GetCollection("d")->projection.version() == 0);
}

TEST_CASE("point snapshots load at restart and are caught up with later writes") {
  Fixture f;
  const size_t dim = 8;
  auto atoms = f.MakeAtoms(300);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(dim, "hnsw", index::Metric::kL2)).ok());
  AddRandom(f, "c", std::vector<uint64_t>(atoms.begin(), atoms.begin() + 200), dim, 9);
  auto snap = f.embeddings->Snapshot("c");
  REQUIRE(snap.ok());
  const std::string dir =
      f.options.snapshot_dir + "/" + std::to_string(snap->record.collection_id());
  size_t point_files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    point_files += e.path().filename().string().rfind("fine.p0-", 0) == 0;
  }
  CHECK(point_files == 1);
  AddRandom(f, "c", std::vector<uint64_t>(atoms.begin() + 200, atoms.end()), dim, 10);
  for (size_t i = 0; i < 300; i += 30) REQUIRE(f.embeddings->DeleteEmbedding("c", atoms[i]).ok());
  auto expected = AllPoints(f, atoms, "c");
  REQUIRE(expected.size() == 290);

  f.Reopen(/*clean=*/false);
  auto info = f.embeddings->GetCollection("c");
  CHECK(info->points == 290);
  for (const auto& [label, p] : expected) {
    auto hits = f.embeddings->SpatialQuery(Radius("c", p.fine, 0));
    REQUIRE(hits->hits.size() == 1);
    CHECK(hits->hits[0].embedding_id == label);
  }
  // Nothing else: a radius around everything finds exactly the live rows.
  auto all = Radius("c", {0, 0, 0}, 1e9);
  all.limit = 1000;
  CHECK(f.embeddings->SpatialQuery(all)->hits.size() == 290);
}

TEST_CASE("hybrid search through the engine: a radius covering everything is exact search") {
  Fixture f;
  const size_t dim = 16;
  auto atoms = f.MakeAtoms(300);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(dim, "hnsw", index::Metric::kL2)).ok());
  auto rows = AddRandom(f, "c", atoms, dim, 11);
  std::mt19937 rng(12);
  for (int i = 0; i < 10; ++i) {
    auto h = NearestTo<HybridSearchQuery>("c", RandomVector(rng, dim), 10);
    h.radius = 1e12;
    h.report_recall = true;
    if (i % 2 == 1) h.filter.modality = "m1";
    auto hybrid = f.embeddings->HybridSearch(h);
    REQUIRE(hybrid.ok());
    CHECK(*hybrid->recall == 1.0);
    CHECK(hybrid->candidates == (i % 2 == 1 ? 100u : 300u));
    auto truth = BruteForce(index::Metric::kL2, rows, h.vector, 10, [&](uint64_t atom) {
      return i % 2 == 0 || (atom - atoms[0]) % 3 == 1;
    });
    REQUIRE(hybrid->hits.size() == truth.size());
    for (size_t j = 0; j < truth.size(); ++j) CHECK(hybrid->hits[j].atom_id == truth[j].first);
  }
  // By atom: its own embedding is the query and it is left out.
  auto h = NearestToAtom<HybridSearchQuery>("c", atoms[5], 5);
  h.keep_fraction = 1.0;
  h.with_canonical_text = true;
  auto hybrid = f.embeddings->HybridSearch(h);
  REQUIRE(hybrid.ok());
  REQUIRE(hybrid->hits.size() == 5);
  auto truth =
      BruteForce(index::Metric::kL2, rows, rows.at(atoms[5]), 6, [](uint64_t) { return true; });
  for (size_t j = 0; j < 5; ++j) {
    CHECK(hybrid->hits[j].atom_id == truth[j + 1].first);
    CHECK(hybrid->hits[j].canonical_text ==
          "atom " + std::to_string(hybrid->hits[j].atom_id - atoms[0]));
  }
  // Bad input names the field.
  h.atom_id = 0;
  h.vector.assign(3, 1.0f);
  CHECK_THAT(f.embeddings->HybridSearch(h).status().message(), Catch::StartsWith("vector"));
  h.vector.assign(dim, 1.0f);
  h.keep_fraction.reset();
  h.radius = -1;
  CHECK_THAT(f.embeddings->HybridSearch(h).status().message(), Catch::StartsWith("radius"));
}

TEST_CASE("nearest by projection orders embeddings by projected distance") {
  Fixture f;
  auto atoms = f.MakeAtoms(4);
  REQUIRE(f.embeddings->CreateCollection("p", Spec(3, "flat", index::Metric::kL2)).ok());
  // Dimension 3 projects onto its own axes.
  const std::vector<std::vector<float>> vectors = {{0, 0, 0}, {3, 4, 0}, {1, 0, 0}, {0, 0, 10}};
  std::vector<EmbeddingInput> inputs;
  for (size_t i = 0; i < 4; ++i) inputs.push_back(EmbeddingInput{atoms[i], vectors[i], "", false});
  REQUIRE(f.embeddings->AddEmbeddings("p", std::nullopt, inputs).ok());
  auto near = f.embeddings->NearestByProjection("p", {0, 0, 0}, 3);
  REQUIRE(near.ok());
  REQUIRE(near->size() == 3);
  CHECK((*near)[0].atom_id == atoms[0]);
  CHECK((*near)[0].distance == 0);
  CHECK((*near)[1].atom_id == atoms[2]);
  CHECK((*near)[1].distance == 1);
  CHECK((*near)[2].atom_id == atoms[1]);
  CHECK((*near)[2].distance == 5);
  CHECK(f.embeddings->NearestByProjection("p", {0, 0}, 1).status().code() ==
        Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace hartonomous::engine
