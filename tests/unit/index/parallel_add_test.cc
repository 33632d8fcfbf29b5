// VectorIndex::AddBatch: the parallel insert used by start-up replay holds
// the same content as inserting one by one.
#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "index/index_registry.h"
#include "tests/unit/index/index_test_util.h"

namespace hartonomous::index {
namespace {

using testing::Make;
using testing::RandomRows;

std::set<uint64_t> LabelSet(const VectorIndex& index) {
  auto labels = index.Labels();
  return std::set<uint64_t>(labels.begin(), labels.end());
}

}  // namespace

TEST_CASE("AddBatch with several threads holds what sequential Add holds", "[index][replay]") {
  const size_t n = 3000, dim = 24;
  const auto rows = RandomRows(n, dim, 7);
  std::vector<uint64_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = 1000 + 3 * i;  // sparse, like embedding ids
  for (Metric metric : {Metric::kL2, Metric::kCosine}) {
    for (const std::string kind : {"hnsw", "flat"}) {
      CAPTURE(kind, MetricName(metric));
      auto sequential = Make(kind, dim, metric);
      for (size_t i = 0; i < n; ++i) REQUIRE(sequential->Add(labels[i], &rows[i * dim]).ok());
      auto parallel = Make(kind, dim, metric);
      // Two batches, the second growing the index past its capacity.
      const size_t half = n / 2;
      std::vector<uint64_t> first(labels.begin(), labels.begin() + half);
      std::vector<uint64_t> second(labels.begin() + half, labels.end());
      REQUIRE(parallel->AddBatch(first, rows.data(), 4).ok());
      REQUIRE(parallel->AddBatch(second, rows.data() + half * dim, 4).ok());

      CHECK(parallel->size() == n);
      CHECK(LabelSet(*parallel) == LabelSet(*sequential));
      // The same vectors under the same labels: exact searches agree.
      const auto queries = RandomRows(20, dim, 99);
      for (size_t q = 0; q < 20; ++q) {
        auto a = sequential->ExactSearch(&queries[q * dim], 10);
        auto b = parallel->ExactSearch(&queries[q * dim], 10);
        REQUIRE(a.ok());
        REQUIRE(b.ok());
        CHECK(*a == *b);
      }
      // Each vector is found under its own label (distance 0 for l2).
      for (size_t i = 0; i < n; i += 97) {
        auto hit = parallel->ExactSearch(&rows[i * dim], 1);
        REQUIRE(hit.ok());
        REQUIRE(hit->size() == 1);
        CHECK((*hit)[0].label == labels[i]);
      }
      // The ANN graph is usable: a search returns k live labels.
      auto ann = parallel->Search(&queries[0], 10, 64);
      REQUIRE(ann.ok());
      CHECK(ann->size() == 10);
    }
  }
}

TEST_CASE("AddBatch refuses a present or repeated label before adding anything",
          "[index][replay]") {
  const size_t dim = 8;
  const auto rows = RandomRows(4, dim, 3);
  for (const std::string kind : {"hnsw", "flat"}) {
    CAPTURE(kind);
    auto index = Make(kind, dim, Metric::kL2);
    REQUIRE(index->Add(5, rows.data()).ok());
    CHECK(index->AddBatch({6, 5}, rows.data(), 2).code() == Status::Code::kAlreadyExists);
    CHECK(index->AddBatch({7, 7}, rows.data(), 2).code() == Status::Code::kAlreadyExists);
    CHECK(index->size() == 1);
    CHECK_FALSE(index->Contains(6));
    CHECK_FALSE(index->Contains(7));
  }
}

}  // namespace hartonomous::index
