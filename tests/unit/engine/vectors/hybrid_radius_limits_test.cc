// HybridSearch radii at the edge of the double range: the coarse-first
// selection widens the radius by half a cell's diagonal, which must not
// overflow for a finite radius.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>

#include "index/index_registry.h"
#include "server/engine/vectors/hybrid_search.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

constexpr size_t kDim = 8;
constexpr size_t kRows = 300;

}  // namespace

TEST_CASE("coarse-first HybridSearch with a radius of DBL_MAX equals the fine selection") {
  std::mt19937_64 rng(11);
  std::normal_distribution<float> g;
  std::vector<float> data(kRows * kDim);
  for (auto& x : data) x = g(rng);
  index::IndexSpec spec{"flat", kDim, index::Metric::kL2, {}};
  auto vectors = std::move(index::IndexRegistry::Default().Create(spec)).value();
  auto projection = std::move(index::MakeProjection("pca", kDim)).value();
  REQUIRE(projection->Fit(data, kRows).ok());
  storage::CollectionRecord record;
  record.set_collection_id(1);
  record.set_dimension(kDim);
  record.set_metric("l2");
  auto space = std::move(CollectionSpace::Make(record, CollectionSpace::RecordOf(
                                                           record, *projection, 1, 0.5, kRows, 1)))
                   .value();
  for (size_t r = 0; r < kRows; ++r) {
    REQUIRE(vectors->Add(r + 1, &data[r * kDim]).ok());
    REQUIRE(space->Upsert(r + 1, &data[r * kDim]).ok());
  }
  for (double radius : {std::numeric_limits<double>::max(),
                        std::nextafter(std::numeric_limits<double>::max(), 0.0), 1e308}) {
    CAPTURE(radius);
    HybridQuery query;
    query.vector = &data[5 * kDim];
    query.k = 10;
    query.radius = radius;
    auto fine = PlanHybrid(*vectors, *space, query);
    REQUIRE(fine.ok());
    query.coarse_first = true;
    auto coarse = PlanHybrid(*vectors, *space, query);
    REQUIRE(coarse.ok());
    CHECK(fine->candidates == kRows);
    CHECK(coarse->candidates == fine->candidates);
    CHECK(coarse->hits == fine->hits);
    CHECK(coarse->hits == *vectors->ExactSearch(query.vector, 10));
    auto direct = space->fine().WithinRadius(fine->center, radius, 0);
    REQUIRE(direct.ok());
    auto coarse_points = space->WithinRadiusCoarseFirst(fine->center, radius);
    REQUIRE(coarse_points.ok());
    CHECK(*coarse_points == *direct);
  }
  // Infinity is still refused, as before.
  HybridQuery inf;
  inf.vector = data.data();
  inf.k = 1;
  inf.coarse_first = true;
  inf.radius = std::numeric_limits<double>::infinity();
  CHECK(PlanHybrid(*vectors, *space, inf).status().message() ==
        "radius: must be a finite number >= 0");
}
