#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "index/index_registry.h"
#include "server/engine/hybrid_search.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

constexpr size_t kDim = 24;
constexpr size_t kRows = 2000;

struct Collection {
  std::vector<float> data;
  std::unique_ptr<index::VectorIndex> vectors;
  std::unique_ptr<index::SpatialIndex> points;
  std::unique_ptr<index::Projection> projection;

  Collection() {
    std::mt19937_64 rng(5);
    std::normal_distribution<float> g;
    data.resize(kRows * kDim);
    for (size_t r = 0; r < kRows; ++r) {
      for (size_t i = 0; i < kDim; ++i) data[r * kDim + i] = g(rng) * (i < 3 ? 4.0f : 1.0f);
    }
    index::IndexSpec spec{"flat", kDim, index::Metric::kL2, {}};
    vectors = std::move(index::IndexRegistry::Default().Create(spec)).value();
    projection = std::move(index::MakeProjection("pca", kDim)).value();
    REQUIRE(projection->Fit(data, kRows).ok());
    points = std::move(index::MakeSpatialIndex("rtree")).value();
    for (size_t r = 0; r < kRows; ++r) {
      REQUIRE(vectors->Add(r + 1, &data[r * kDim]).ok());
      REQUIRE(points->Upsert(r + 1, projection->Project(&data[r * kDim])).ok());
    }
  }
  const float* row(size_t r) const { return &data[r * kDim]; }
};

float L2(const float* a, const float* b) {
  float s = 0;
  for (size_t i = 0; i < kDim; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

}  // namespace

TEST_CASE("a radius covering everything gives the exact answer") {
  Collection c;
  for (size_t q : {0, 17, 999}) {
    HybridQuery query;
    query.vector = c.row(q);
    query.k = 10;
    query.radius = 1e9;
    query.report_recall = true;
    auto hybrid = HybridSearch(*c.vectors, *c.points, *c.projection, query);
    REQUIRE(hybrid.ok());
    CHECK(hybrid->candidates == kRows);
    CHECK(hybrid->hits == *c.vectors->ExactSearch(c.row(q), 10));
    CHECK(*hybrid->recall == 1.0);
    query.radius.reset();
    query.keep_fraction = 1.0;
    CHECK(HybridSearch(*c.vectors, *c.points, *c.projection, query)->hits == hybrid->hits);
  }
}

TEST_CASE("stage 2 reranks exactly the stage 1 candidates") {
  Collection c;
  HybridQuery query;
  query.vector = c.row(42);
  query.k = 10;
  query.keep_fraction = 0.05;
  query.report_recall = true;
  auto hybrid = HybridSearch(*c.vectors, *c.points, *c.projection, query);
  REQUIRE(hybrid.ok());
  CHECK(hybrid->candidates == 100);  // ceil(0.05 * 2000)
  // Brute force over the points within the reported radius of the centre.
  auto within = c.points->WithinRadius(hybrid->center, hybrid->radius, 0);
  REQUIRE(within->size() == 100);
  std::vector<std::pair<float, uint64_t>> expected;
  for (const auto& p : *within) expected.emplace_back(L2(c.row(42), c.row(p.id - 1)), p.id);
  std::sort(expected.begin(), expected.end());
  REQUIRE(hybrid->hits.size() == 10);
  for (size_t i = 0; i < 10; ++i) CHECK(hybrid->hits[i].label == expected[i].second);
  // The query itself projects to the centre and is its own nearest neighbour.
  CHECK(hybrid->hits[0].label == 43);
  // Recall is the overlap with the exact top 10.
  auto exact = c.vectors->ExactSearch(c.row(42), 10);
  std::set<uint64_t> truth;
  for (const auto& n : *exact) truth.insert(n.label);
  size_t overlap = 0;
  for (const auto& h : hybrid->hits) overlap += truth.count(h.label);
  CHECK(*hybrid->recall == Approx(overlap / 10.0));
}

TEST_CASE("a label filter applies to candidates and to the recall's ground truth") {
  Collection c;
  HybridQuery query;
  query.vector = c.row(7);
  query.k = 5;
  query.keep_fraction = 1.0;
  query.report_recall = true;
  query.filter_labels = [](uint64_t label) { return label % 2 == 0; };
  auto hybrid = HybridSearch(*c.vectors, *c.points, *c.projection, query);
  REQUIRE(hybrid.ok());
  CHECK(hybrid->candidates == kRows / 2);
  for (const auto& h : hybrid->hits) CHECK(h.label % 2 == 0);
  CHECK(*hybrid->recall == 1.0);  // everything passing the filter was a candidate
}

TEST_CASE("bad hybrid queries name the field") {
  Collection c;
  HybridQuery query;
  query.vector = c.row(0);
  CHECK_THAT(HybridSearch(*c.vectors, *c.points, *c.projection, query).status().message(),
             Catch::Contains("exactly one"));
  query.radius = -1;
  CHECK_THAT(HybridSearch(*c.vectors, *c.points, *c.projection, query).status().message(),
             Catch::StartsWith("radius"));
  query.radius = std::nan("");
  CHECK(HybridSearch(*c.vectors, *c.points, *c.projection, query).status().code() ==
        Status::Code::kInvalidArgument);
  query.radius.reset();
  query.keep_fraction = 0;
  CHECK_THAT(HybridSearch(*c.vectors, *c.points, *c.projection, query).status().message(),
             Catch::StartsWith("keep_fraction"));
  query.keep_fraction = 0.5;
  query.k = 0;
  CHECK_THAT(HybridSearch(*c.vectors, *c.points, *c.projection, query).status().message(),
             Catch::StartsWith("k"));
}
