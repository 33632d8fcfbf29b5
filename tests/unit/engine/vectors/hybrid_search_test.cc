#include "server/engine/vectors/hybrid_search.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <set>

#include "tests/unit/engine/vectors/projected_rows.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

constexpr size_t kDim = 24;
constexpr size_t kRows = 2000;

// 2000 rows of 24 dimensions, the first three four times as wide.
struct Collection : testing_hybrid::ProjectedRows {
  Collection() : ProjectedRows(kDim, testing_hybrid::NormalRows(kRows, kDim, 5, 3, 4.0f)) {}
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
    HybridQuery query = c.Query(q, 10);
    query.radius = 1e9;
    query.report_recall = true;
    auto hybrid = c.Plan(query);
    REQUIRE(hybrid.ok());
    CHECK(hybrid->candidates == kRows);
    CHECK(hybrid->hits == *c.vectors->ExactSearch(c.row(q), 10));
    CHECK(*hybrid->recall == 1.0);
    query.radius.reset();
    query.keep_fraction = 1.0;
    CHECK(c.Plan(query)->hits == hybrid->hits);
  }
}

TEST_CASE("stage 2 reranks exactly the stage 1 candidates") {
  Collection c;
  HybridQuery query = c.Query(42, 10);
  query.keep_fraction = 0.05;
  query.report_recall = true;
  auto hybrid = c.Plan(query);
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
  HybridQuery query = c.Query(7, 5);
  query.keep_fraction = 1.0;
  query.report_recall = true;
  query.filter_labels = [](uint64_t label) { return label % 2 == 0; };
  auto hybrid = c.Plan(query);
  REQUIRE(hybrid.ok());
  CHECK(hybrid->candidates == kRows / 2);
  for (const auto& h : hybrid->hits) CHECK(h.label % 2 == 0);
  CHECK(*hybrid->recall == 1.0);  // everything passing the filter was a candidate
}

TEST_CASE("bad hybrid queries name the field") {
  Collection c;
  HybridQuery query;
  query.vector = c.row(0);
  CHECK_THAT(c.Plan(query).status().message(), Catch::Contains("exactly one"));
  query.radius = -1;
  CHECK_THAT(c.Plan(query).status().message(), Catch::StartsWith("radius"));
  query.radius = std::nan("");
  CHECK(c.Plan(query).status().code() == Status::Code::kInvalidArgument);
  query.radius.reset();
  query.keep_fraction = 0;
  CHECK_THAT(c.Plan(query).status().message(), Catch::StartsWith("keep_fraction"));
  query.keep_fraction = 0.5;
  query.k = 0;
  CHECK_THAT(c.Plan(query).status().message(), Catch::StartsWith("k"));
}

TEST_CASE("coarse-first selection keeps the same candidates as the fine points") {
  Collection c;
  for (size_t q : {3, 400, 1500}) {
    for (double radius : {0.0, 0.3, 1.0, 2.5}) {
      HybridQuery query = c.Query(q, 10);
      query.radius = radius;
      testing_hybrid::PlanBothWays(c, query);
    }
  }
}

TEST_CASE("ANN candidates join the spatial ones once each") {
  Collection c;
  HybridQuery query = c.Query(11, 10);
  query.radius = 0;  // only points exactly at the centre: the query itself
  query.report_recall = true;
  auto alone = c.Plan(query);
  REQUIRE(alone.ok());
  CHECK(alone->candidates == 1);
  query.ann_ef = 50;
  auto joined = c.Plan(query);
  REQUIRE(joined.ok());
  // The flat index's 50 nearest include the query's own row, counted once.
  CHECK(joined->ann_candidates == 49);
  CHECK(joined->candidates == 50);
  CHECK(joined->hits == *c.vectors->ExactSearch(c.row(11), 10));
  CHECK(*joined->recall == 1.0);
}
