#include "index/projection/projection.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

using namespace hartonomous;
using namespace hartonomous::index;

namespace {

double Dot(const double* a, const double* b, size_t d) {
  double s = 0;
  for (size_t i = 0; i < d; ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

TEST_CASE("random projection axes are orthonormal and deterministic per seed") {
  for (size_t d : {4, 64, 784}) {
    auto p = std::move(MakeProjection("random", d, 7)).value();
    const auto& a = p->axes();
    for (size_t r = 0; r < 3; ++r) {
      for (size_t c = 0; c < 3; ++c) {
        CHECK(Dot(&a[r * d], &a[c * d], d) == Approx(r == c ? 1.0 : 0.0).margin(1e-9));
      }
    }
    auto same = std::move(MakeProjection("random", d, 7)).value();
    CHECK(same->axes() == a);
    auto other = std::move(MakeProjection("random", d, 8)).value();
    CHECK(other->axes() != a);
  }
}

TEST_CASE("PCA finds planted directions of largest variance, in order") {
  // 8-d data: variance 100 along e2, 25 along e5, 4 along e0, 0.01 elsewhere,
  // around a mean of 3.
  const size_t d = 8, n = 2000;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> g;
  std::vector<float> sample(n * d);
  for (size_t r = 0; r < n; ++r) {
    for (size_t i = 0; i < d; ++i) sample[r * d + i] = static_cast<float>(3 + 0.1 * g(rng));
    sample[r * d + 2] = static_cast<float>(3 + 10 * g(rng));
    sample[r * d + 5] = static_cast<float>(3 + 5 * g(rng));
    sample[r * d + 0] = static_cast<float>(3 + 2 * g(rng));
  }
  auto p = std::move(MakeProjection("pca", d)).value();
  REQUIRE(p->Fit(sample, n).ok());
  const auto& a = p->axes();
  CHECK(std::abs(a[0 * d + 2]) == Approx(1.0).margin(0.01));
  CHECK(std::abs(a[1 * d + 5]) == Approx(1.0).margin(0.01));
  CHECK(std::abs(a[2 * d + 0]) == Approx(1.0).margin(0.01));
  CHECK(p->scale()[0] == Approx(10).epsilon(0.1));
  CHECK(p->scale()[1] == Approx(5).epsilon(0.1));
  CHECK(p->scale()[2] == Approx(2).epsilon(0.1));
  // The mean maps to the origin.
  std::vector<float> mean(d, 3.0f);
  const Point3 origin = p->Project(mean.data());
  CHECK(std::abs(origin.x) < 0.5);
}

TEST_CASE("bad projection arguments") {
  CHECK(MakeProjection("random", 0).status().code() == Status::Code::kInvalidArgument);
  CHECK(MakeProjection("random", 16385).status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(MakeProjection("umap", 8).status().message(), Catch::Contains("pca"));
  auto p = std::move(MakeProjection("pca", 8)).value();
  std::vector<float> few(8 * 4, 1.0f);
  CHECK_THAT(p->Fit(few, 4).message(), Catch::Contains("at least"));
  CHECK(p->Fit(few, 5).code() == Status::Code::kInvalidArgument);  // wrong size
  CHECK(p->Restore({1, 2}, {}, {1, 1, 1}).code() == Status::Code::kInvalidArgument);
}

TEST_CASE("low-dimensional vectors project onto their own axes") {
  auto p = std::move(MakeProjection("random", 2)).value();
  const float v[2] = {1.5f, -2.0f};
  const Point3 q = p->Project(v);
  CHECK(q.x == 1.5);
  CHECK(q.y == -2.0);
  CHECK(q.z == 0.0);
}
