#include "index/spatial/spatial_index.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "tests/unit/fields.h"
#include "tests/unit/temp_dir.h"

using namespace hartonomous;
using namespace hartonomous::index;

namespace {

std::vector<std::pair<uint64_t, Point3>> RandomPoints(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-10, 10);
  std::vector<std::pair<uint64_t, Point3>> out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(i + 1, Point3{u(rng), u(rng), u(rng)});
  return out;
}

std::unique_ptr<SpatialIndex> Make(const char* kind) {
  auto index = MakeSpatialIndex(kind);
  REQUIRE(index.ok());
  return std::move(index).value();
}

std::vector<uint64_t> Ids(const std::vector<SpatialHit>& hits) {
  return testing::FieldOf(hits, &SpatialHit::id);
}

}  // namespace

TEST_CASE("the R-tree answers radius, box and kNN queries exactly as a scan") {
  auto rtree = Make("rtree");
  auto scan = Make("scan");
  const auto points = RandomPoints(5000, 7);
  // Bulk load one half, insert the other one by one.
  std::vector<std::pair<uint64_t, Point3>> half(points.begin(), points.begin() + 2500);
  REQUIRE(rtree->Assign(half).ok());
  REQUIRE(scan->Assign(half).ok());
  for (size_t i = 2500; i < points.size(); ++i) {
    REQUIRE(rtree->Upsert(points[i].first, points[i].second).ok());
    REQUIRE(scan->Upsert(points[i].first, points[i].second).ok());
  }
  CHECK(rtree->size() == 5000);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-12, 12), r(0, 4);
  for (int q = 0; q < 200; ++q) {
    const Point3 c{u(rng), u(rng), u(rng)};
    const double radius = r(rng);
    const size_t limit = q % 3 == 0 ? 10 : 0;
    auto a = rtree->WithinRadius(c, radius, limit);
    auto b = scan->WithinRadius(c, radius, limit);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(*a == *b);
    // The unordered ids: the same set as the full ranked answer.
    auto full = scan->WithinRadius(c, radius, 0);
    auto ids = rtree->IdsWithinRadius(c, radius);
    REQUIRE(full.ok());
    REQUIRE(ids.ok());
    std::vector<uint64_t> want;
    for (const SpatialHit& hit : *full) want.push_back(hit.id);
    std::sort(want.begin(), want.end());
    std::sort(ids->begin(), ids->end());
    CHECK(*ids == want);
    const Point3 lo{c.x - radius, c.y - radius / 2, c.z - radius};
    const Point3 hi{c.x + radius / 3, c.y + radius, c.z + radius};
    CHECK(*rtree->WithinBox(lo, hi, 0) == *scan->WithinBox(lo, hi, 0));
    CHECK(*rtree->Nearest(c, 25) == *scan->Nearest(c, 25));
  }
}

TEST_CASE("points exactly on the boundary are inside") {
  for (const char* kind : {"rtree", "scan"}) {
    INFO(kind);
    auto index = Make(kind);
    uint64_t id = 1;
    for (int x = -2; x <= 2; ++x) {
      for (int y = -2; y <= 2; ++y) {
        for (int z = -2; z <= 2; ++z)
          REQUIRE(index->Upsert(id++, Point3{double(x), double(y), double(z)}).ok());
      }
    }
    // Radius 1 around the origin: the origin and its 6 axis neighbours.
    auto within = index->WithinRadius(Point3{0, 0, 0}, 1.0, 0);
    REQUIRE(within->size() == 7);
    CHECK(within->front().distance == 0);
    CHECK(within->back().distance == 1.0);
    // Radius 0 finds exactly the point there.
    CHECK(index->WithinRadius(Point3{1, 1, 1}, 0, 0)->size() == 1);
    // The closed box [0,1]^3 holds its 8 corners.
    CHECK(index->WithinBox(Point3{0, 0, 0}, Point3{1, 1, 1}, 0)->size() == 8);
    // A flat box (min == max on one axis) is a plane slice: 5 x 5 points.
    CHECK(index->WithinBox(Point3{-2, -2, 1}, Point3{2, 2, 1}, 0)->size() == 25);
  }
}

TEST_CASE("a reported distance used as the radius includes its point") {
  auto points = RandomPoints(2000, 17);
  for (const char* kind : {"rtree", "scan"}) {
    INFO(kind);
    auto index = Make(kind);
    REQUIRE(index->Assign(points).ok());
    std::mt19937_64 rng(18);
    std::uniform_real_distribution<double> u(-10, 10);
    for (int q = 0; q < 50; ++q) {
      const Point3 center{u(rng), u(rng), u(rng)};
      auto nearest = index->Nearest(center, 1 + q * 7);
      REQUIRE(nearest.ok());
      auto within = index->WithinRadius(center, nearest->back().distance, 0);
      REQUIRE(within.ok());
      // Every point the kNN query returned is within its farthest distance.
      CHECK(within->size() >= nearest->size());
      CHECK(Ids(*within).front() == Ids(*nearest).front());
      CHECK(within->back().distance == nearest->back().distance);
      // One step below that distance leaves the point out, in both queries.
      const double below = std::nextafter(nearest->back().distance, 0.0);
      const uint64_t farthest = nearest->back().id;
      auto inside = index->WithinRadius(center, below, 0);
      auto ids = index->IdsWithinRadius(center, below);
      REQUIRE(inside.ok());
      REQUIRE(ids.ok());
      for (const SpatialHit& hit : *inside) CHECK(hit.distance <= below);
      CHECK(std::count(ids->begin(), ids->end(), farthest) == 0);
      CHECK(ids->size() == inside->size());
      auto at = index->IdsWithinRadius(center, nearest->back().distance);
      REQUIRE(at.ok());
      CHECK(std::count(at->begin(), at->end(), farthest) == 1);
    }
  }
}

TEST_CASE("Find returns the stored point") {
  for (const char* kind : {"rtree", "scan"}) {
    INFO(kind);
    auto index = Make(kind);
    REQUIRE(index->Upsert(7, Point3{1, 2, 3}).ok());
    CHECK(index->Find(7) == Point3{1, 2, 3});
    CHECK_FALSE(index->Find(8).has_value());
    index->Remove(7);
    CHECK_FALSE(index->Find(7).has_value());
  }
}

TEST_CASE("upsert moves a point and remove forgets it") {
  for (const char* kind : {"rtree", "scan"}) {
    INFO(kind);
    auto index = Make(kind);
    REQUIRE(index->Upsert(1, Point3{0, 0, 0}).ok());
    REQUIRE(index->Upsert(2, Point3{5, 5, 5}).ok());
    REQUIRE(index->Upsert(1, Point3{5, 5, 6}).ok());
    CHECK(index->size() == 2);
    CHECK(index->WithinRadius(Point3{0, 0, 0}, 1, 0)->empty());
    CHECK(Ids(*index->Nearest(Point3{5, 5, 7}, 1)) == std::vector<uint64_t>{1});
    CHECK(index->Remove(1));
    CHECK_FALSE(index->Remove(1));
    CHECK(Ids(*index->Nearest(Point3{5, 5, 7}, 5)) == std::vector<uint64_t>{2});
  }
}

TEST_CASE("bad queries are INVALID_ARGUMENT naming the argument") {
  auto index = Make("rtree");
  CHECK_THAT(index->WithinRadius(Point3{}, -1, 0).status().message(), Catch::Contains("radius"));
  CHECK_THAT(index->IdsWithinRadius(Point3{}, -1).status().message(), Catch::Contains("radius"));
  CHECK_THAT(index->WithinRadius(Point3{}, std::nan(""), 0).status().message(),
             Catch::Contains("radius"));
  CHECK_THAT(index->WithinRadius(Point3{INFINITY, 0, 0}, 1, 0).status().message(),
             Catch::Contains("center"));
  CHECK_THAT(index->WithinBox(Point3{1, 0, 0}, Point3{0, 1, 1}, 0).status().message(),
             Catch::Contains("box"));
  CHECK(index->Upsert(1, Point3{0, std::nan(""), 0}).code() == Status::Code::kInvalidArgument);
  CHECK(index->Assign({{1, Point3{}}, {1, Point3{1, 1, 1}}}).code() ==
        Status::Code::kInvalidArgument);
  auto unknown = MakeSpatialIndex("octree");
  CHECK(unknown.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(unknown.status().message(), Catch::Contains("rtree"));
}

TEST_CASE("snapshots round-trip, survive an interrupted write and detect damage") {
  testing::TempDir dir;
  const std::string path = dir.dir() + "/spatial.snap";
  auto index = Make("rtree");
  REQUIRE(index->Assign(RandomPoints(1000, 3)).ok());
  REQUIRE(SaveSpatialSnapshot(*index, 42, path).ok());

  auto loaded = Make("rtree");
  auto watermark = LoadSpatialSnapshot(path, loaded.get());
  REQUIRE(watermark.ok());
  CHECK(*watermark == 42);
  CHECK(loaded->Points() == index->Points());

  // A crash mid-write leaves a partial temp file; the snapshot still loads.
  { std::ofstream(path + ".tmp", std::ios::binary) << "HTSPATL1 partial"; }
  auto again = Make("scan");
  CHECK(LoadSpatialSnapshot(path, again.get()).ok());
  CHECK(again->size() == 1000);

  // Flipped byte -> checksum mismatch; truncation -> not a snapshot.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string flipped = bytes;
  flipped[100] ^= 0x1;
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << flipped; }
  CHECK(LoadSpatialSnapshot(path, again.get()).status().code() == Status::Code::kDataLoss);
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, 20); }
  CHECK(LoadSpatialSnapshot(path, again.get()).status().code() == Status::Code::kDataLoss);
  CHECK(LoadSpatialSnapshot(dir.dir() + "/none", again.get()).status().code() ==
        Status::Code::kNotFound);
  CHECK(again->size() == 1000);  // failed loads left it unchanged
}
