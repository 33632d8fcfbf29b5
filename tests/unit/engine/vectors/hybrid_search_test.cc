#include "server/engine/vectors/hybrid_search.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <set>

#include "index/index_registry.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

constexpr size_t kDim = 24;
constexpr size_t kRows = 2000;

struct Collection {
  std::vector<float> data;
  std::unique_ptr<index::VectorIndex> vectors;
  std::unique_ptr<CollectionSpace> space;

  Collection() {
    std::mt19937_64 rng(5);
    std::normal_distribution<float> g;
    data.resize(kRows * kDim);
    for (size_t r = 0; r < kRows; ++r) {
      for (size_t i = 0; i < kDim; ++i) data[r * kDim + i] = g(rng) * (i < 3 ? 4.0f : 1.0f);
    }
    index::IndexSpec spec{"flat", kDim, index::Metric::kL2, {}};
    vectors = std::move(index::IndexRegistry::Default().Create(spec)).value();
    auto projection = std::move(index::MakeProjection("pca", kDim)).value();
    REQUIRE(projection->Fit(data, kRows).ok());
    storage::CollectionRecord record;
    record.set_collection_id(1);
    record.set_dimension(kDim);
    record.set_metric("l2");
    space = std::move(CollectionSpace::Make(
                          record, CollectionSpace::RecordOf(record, *projection, 1, 0.5, kRows, 1)))
                .value();
    for (size_t r = 0; r < kRows; ++r) {
      REQUIRE(vectors->Add(r + 1, &data[r * kDim]).ok());
      REQUIRE(space->Upsert(r + 1, &data[r * kDim]).ok());
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
    auto hybrid = PlanHybrid(*c.vectors, *c.space, query);
    REQUIRE(hybrid.ok());
    CHECK(hybrid->candidates == kRows);
    CHECK(hybrid->hits == *c.vectors->ExactSearch(c.row(q), 10));
    CHECK(*hybrid->recall == 1.0);
    query.radius.reset();
    query.keep_fraction = 1.0;
    CHECK(PlanHybrid(*c.vectors, *c.space, query)->hits == hybrid->hits);
  }
}

TEST_CASE("stage 2 reranks exactly the stage 1 candidates") {
  Collection c;
  HybridQuery query;
  query.vector = c.row(42);
  query.k = 10;
  query.keep_fraction = 0.05;
  query.report_recall = true;
  auto hybrid = PlanHybrid(*c.vectors, *c.space, query);
  REQUIRE(hybrid.ok());
  CHECK(hybrid->candidates == 100);  // ceil(0.05 * 2000)
  // Brute force over the points within the reported radius of the centre.
  auto within = c.space->fine().WithinRadius(hybrid->center, hybrid->radius, 0);
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
  auto hybrid = PlanHybrid(*c.vectors, *c.space, query);
  REQUIRE(hybrid.ok());
  CHECK(hybrid->candidates == kRows / 2);
  for (const auto& h : hybrid->hits) CHECK(h.label % 2 == 0);
  CHECK(*hybrid->recall == 1.0);  // everything passing the filter was a candidate
}

TEST_CASE("bad hybrid queries name the field") {
  Collection c;
  HybridQuery query;
  query.vector = c.row(0);
  CHECK_THAT(PlanHybrid(*c.vectors, *c.space, query).status().message(),
             Catch::Contains("exactly one"));
  query.radius = -1;
  CHECK_THAT(PlanHybrid(*c.vectors, *c.space, query).status().message(),
             Catch::StartsWith("radius"));
  query.radius = std::nan("");
  CHECK(PlanHybrid(*c.vectors, *c.space, query).status().code() == Status::Code::kInvalidArgument);
  query.radius.reset();
  query.keep_fraction = 0;
  CHECK_THAT(PlanHybrid(*c.vectors, *c.space, query).status().message(),
             Catch::StartsWith("keep_fraction"));
  query.keep_fraction = 0.5;
  query.k = 0;
  CHECK_THAT(PlanHybrid(*c.vectors, *c.space, query).status().message(), Catch::StartsWith("k"));
}

TEST_CASE("coarse-first selection keeps the same candidates as the fine points") {
  Collection c;
  for (size_t q : {3, 400, 1500}) {
    for (double radius : {0.0, 0.3, 1.0, 2.5}) {
      HybridQuery query;
      query.vector = c.row(q);
      query.k = 10;
      query.radius = radius;
      auto fine = PlanHybrid(*c.vectors, *c.space, query);
      query.coarse_first = true;
      auto coarse = PlanHybrid(*c.vectors, *c.space, query);
      REQUIRE(fine.ok());
      REQUIRE(coarse.ok());
      CHECK(coarse->candidates == fine->candidates);
      CHECK(coarse->hits == fine->hits);
      auto direct = c.space->fine().WithinRadius(fine->center, radius, 0);
      CHECK(*c.space->WithinRadiusCoarseFirst(fine->center, radius) == *direct);
    }
  }
}

TEST_CASE("ANN candidates join the spatial ones once each") {
  Collection c;
  HybridQuery query;
  query.vector = c.row(11);
  query.k = 10;
  query.radius = 0;  // only points exactly at the centre: the query itself
  query.report_recall = true;
  auto alone = PlanHybrid(*c.vectors, *c.space, query);
  REQUIRE(alone.ok());
  CHECK(alone->candidates == 1);
  query.ann_ef = 50;
  auto joined = PlanHybrid(*c.vectors, *c.space, query);
  REQUIRE(joined.ok());
  // The flat index's 50 nearest include the query's own row, counted once.
  CHECK(joined->ann_candidates == 49);
  CHECK(joined->candidates == 50);
  CHECK(joined->hits == *c.vectors->ExactSearch(c.row(11), 10));
  CHECK(*joined->recall == 1.0);
}
