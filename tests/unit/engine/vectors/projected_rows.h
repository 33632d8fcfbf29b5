// The two inputs of PlanHybrid over synthetic rows, for the hybrid search
// unit tests: a flat L2 index and a CollectionSpace fitted by PCA on every
// row, both holding row r as id r + 1.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <vector>

#include "index/index_registry.h"
#include "server/engine/vectors/hybrid_search.h"

namespace hartonomous::engine::testing_hybrid {

// rows x dim standard normal values from seed; the first `wide` dimensions
// are scaled by `scale`.
inline std::vector<float> NormalRows(size_t rows, size_t dim, uint64_t seed, size_t wide = 0,
                                     float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> data(rows * dim);
  for (size_t i = 0; i < data.size(); ++i) data[i] = g(rng) * (i % dim < wide ? scale : 1.0f);
  return data;
}

struct ProjectedRows {
  ProjectedRows(size_t dim_in, std::vector<float> data_in)
      : dim(dim_in), rows(data_in.size() / dim_in), data(std::move(data_in)) {
    index::IndexSpec spec{"flat", dim, index::Metric::kL2, {}, nullptr};
    vectors = std::move(index::IndexRegistry::Default().Create(spec)).value();
    auto projection = std::move(index::MakeProjection("pca", dim)).value();
    REQUIRE(projection->Fit(data, rows).ok());
    storage::CollectionRecord record;
    record.set_collection_id(1);
    record.set_dimension(static_cast<uint32_t>(dim));
    record.set_metric("l2");
    space = std::move(CollectionSpace::Make(
                          record, CollectionSpace::RecordOf(record, *projection, 1, 0.5, rows, 1)))
                .value();
    for (size_t r = 0; r < rows; ++r) {
      REQUIRE(vectors->Add(r + 1, row(r)).ok());
      REQUIRE(space->Upsert(r + 1, row(r)).ok());
    }
  }

  const float* row(size_t r) const { return &data[r * dim]; }
  // The k nearest to row r; the radius or keep_fraction is the caller's.
  HybridQuery Query(size_t r, size_t k) const {
    HybridQuery query;
    query.vector = row(r);
    query.k = k;
    return query;
  }
  Result<HybridResult> Plan(const HybridQuery& query) const {
    return PlanHybrid(*vectors, *space, query);
  }

  size_t dim, rows;
  std::vector<float> data;
  std::unique_ptr<index::VectorIndex> vectors;
  std::unique_ptr<CollectionSpace> space;
};

// Plans query (which has a radius) with the fine and with the coarse-first
// selection, checks that they agree on candidates and hits and that the
// coarse-first points are the fine ones; returns the fine plan.
inline HybridResult PlanBothWays(const ProjectedRows& c, HybridQuery query) {
  query.coarse_first = false;
  auto fine = c.Plan(query);
  query.coarse_first = true;
  auto coarse = c.Plan(query);
  REQUIRE(fine.ok());
  REQUIRE(coarse.ok());
  CHECK(coarse->candidates == fine->candidates);
  CHECK(coarse->hits == fine->hits);
  auto direct = c.space->fine().WithinRadius(fine->center, *query.radius, 0);
  REQUIRE(direct.ok());
  std::vector<uint64_t> direct_ids;
  for (const auto& hit : *direct) direct_ids.push_back(hit.id);
  std::sort(direct_ids.begin(), direct_ids.end());
  auto fine_ids = c.space->fine().IdsWithinRadius(fine->center, *query.radius);
  auto coarse_ids = c.space->IdsWithinRadiusCoarseFirst(fine->center, *query.radius);
  REQUIRE(fine_ids.ok());
  REQUIRE(coarse_ids.ok());
  std::sort(fine_ids->begin(), fine_ids->end());
  std::sort(coarse_ids->begin(), coarse_ids->end());
  CHECK(*fine_ids == direct_ids);
  CHECK(*coarse_ids == direct_ids);
  return std::move(fine).value();
}

}  // namespace hartonomous::engine::testing_hybrid
