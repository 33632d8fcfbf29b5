// HybridSearch radii at the edge of the double range: the coarse-first
// selection widens the radius by half a cell's diagonal, which must not
// overflow for a finite radius.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "server/engine/vectors/hybrid_search.h"
#include "tests/unit/engine/vectors/projected_rows.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

constexpr size_t kDim = 8;
constexpr size_t kRows = 300;

}  // namespace

TEST_CASE("coarse-first HybridSearch with a radius of DBL_MAX equals the fine selection") {
  const testing_hybrid::ProjectedRows c(kDim, testing_hybrid::NormalRows(kRows, kDim, 11));
  for (double radius : {std::numeric_limits<double>::max(),
                        std::nextafter(std::numeric_limits<double>::max(), 0.0), 1e308}) {
    CAPTURE(radius);
    HybridQuery query = c.Query(5, 10);
    query.radius = radius;
    const HybridResult fine = testing_hybrid::PlanBothWays(c, query);
    CHECK(fine.candidates == kRows);
    CHECK(fine.hits == *c.vectors->ExactSearch(query.vector, 10));
  }
  // Infinity is still refused, as before.
  HybridQuery inf = c.Query(0, 1);
  inf.coarse_first = true;
  inf.radius = std::numeric_limits<double>::infinity();
  CHECK(c.Plan(inf).status().message() == "radius: must be a finite number >= 0");
}
