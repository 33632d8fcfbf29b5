// Helpers shared by the vector index unit tests: seeded random rows and an
// index made through the registry.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "index/index_registry.h"

namespace hartonomous::index::testing {

// n rows of dim standard-normal values, row after row; the same for a seed.
inline std::vector<float> RandomRows(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> out(n * dim);
  for (auto& x : out) x = dist(rng);
  return out;
}

// An empty index of the registered kind; the test fails if it cannot be made.
inline std::unique_ptr<VectorIndex> Make(const std::string& kind, size_t dim, Metric metric) {
  IndexSpec spec;
  spec.kind = kind;
  spec.dimension = dim;
  spec.metric = metric;
  auto index = IndexRegistry::Default().Create(spec);
  REQUIRE(index.ok());
  return std::move(index).value();
}

}  // namespace hartonomous::index::testing
