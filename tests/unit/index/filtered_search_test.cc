// VectorIndex::FilteredSearch (filtered_search.h): only matching labels
// come back; with ef covering the collection the answer is the exact one
// among the matching labels; recall floors on Fashion-MNIST at 10% and 1%
// selectivity.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <set>
#include <unordered_set>

#include "index/index_registry.h"
#include "tests/unit/index/index_test_util.h"

namespace hartonomous::index {
namespace {

using testing::kFashionDir;
using testing::Make;
using testing::RandomRows;
using testing::ReadIdx;
using testing::Recall;
using testing::SetFilter;

}  // namespace

TEST_CASE("FilteredSearch returns only matching labels, exactly when ef covers the index",
          "[index][filtered]") {
  const size_t n = 2000, dim = 16;
  const auto rows = RandomRows(n, dim, 11);
  const auto queries = RandomRows(20, dim, 12);
  for (Metric metric : {Metric::kL2, Metric::kCosine}) {
    auto index = Make("hnsw", dim, metric);
    std::vector<uint64_t> labels(n);
    for (size_t i = 0; i < n; ++i) labels[i] = 500 + 7 * i;  // sparse, like embedding ids
    REQUIRE(index->AddBatch(labels, rows.data(), 2).ok());
    // Deleted rows never come back, even when they match.
    for (size_t i = 0; i < n; i += 50) REQUIRE(index->Remove(labels[i]).ok());
    for (size_t every : {2, 10, 100}) {
      CAPTURE(MetricName(metric), every);
      std::mt19937 rng(static_cast<uint32_t>(every));
      std::unordered_set<uint64_t> chosen;
      for (size_t i = 0; i < n; ++i) {
        if (rng() % every == 0) chosen.insert(labels[i]);
      }
      const SetFilter filter(chosen);
      std::vector<uint64_t> live;
      for (uint64_t l : filter.List()) {
        if (index->Contains(l)) live.push_back(l);
      }
      for (size_t q = 0; q < 20; ++q) {
        const float* query = &queries[q * dim];
        auto small = index->FilteredSearch(query, 10, 16, filter);
        REQUIRE(small.ok());
        CHECK(small->size() == std::min<size_t>(10, live.size()));
        for (const auto& hit : *small) {
          CHECK(chosen.count(hit.label) == 1);
          CHECK(index->Contains(hit.label));
        }
        CHECK(std::is_sorted(
            small->begin(), small->end(),
            [](const Neighbor& a, const Neighbor& b) { return a.distance < b.distance; }));
        auto full = index->FilteredSearch(query, 10, n, filter);
        auto exact = index->ExactAmong(query, live, 10);
        REQUIRE(full.ok());
        REQUIRE(exact.ok());
        REQUIRE(full->size() == exact->size());
        for (size_t i = 0; i < full->size(); ++i) {
          CHECK((*full)[i].label == (*exact)[i].label);
          CHECK((*full)[i].distance == Approx((*exact)[i].distance).margin(1e-5));
        }
      }
    }
  }
}

TEST_CASE("FilteredSearch of an empty index or with no match returns nothing",
          "[index][filtered]") {
  auto index = Make("hnsw", 4, Metric::kL2);
  const float q[4] = {1, 2, 3, 4};
  const SetFilter none({});
  auto empty = index->FilteredSearch(q, 5, 10, none);
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  REQUIRE(index->Add(1, q).ok());
  REQUIRE(index->Add(2, q).ok());
  auto no_match = index->FilteredSearch(q, 5, 10, none);
  REQUIRE(no_match.ok());
  CHECK(no_match->empty());
  const SetFilter two({2});
  auto one = index->FilteredSearch(q, 5, 10, two);
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  CHECK((*one)[0].label == 2);
}

TEST_CASE("a flat index has no filtered search", "[index][filtered]") {
  auto index = Make("flat", 4, Metric::kL2);
  const float q[4] = {1, 2, 3, 4};
  auto r = index->FilteredSearch(q, 5, 10, SetFilter({1}));
  CHECK(r.status().code() == Status::Code::kFailedPrecondition);
}

// Real data, fixed rows and queries: deterministic up to the parallel build's
// linking order, with a margin below the recall measured.
TEST_CASE("FilteredSearch recall on Fashion-MNIST at 10% and 1% selectivity", "[index][filtered]") {
  const std::string dir = kFashionDir;
  if (!std::filesystem::exists(dir + "train-images-idx3-ubyte.gz")) {
    WARN("Fashion-MNIST is not installed; skipping");
    return;
  }
  const size_t n = 20000, nq = 200, dim = 784, k = 10, ef = 64;
  const std::string train = ReadIdx(dir + "train-images-idx3-ubyte.gz", 16, n * dim);
  const std::string train_labels = ReadIdx(dir + "train-labels-idx1-ubyte.gz", 8, n);
  const std::string test = ReadIdx(dir + "t10k-images-idx3-ubyte.gz", 16, nq * dim);
  std::vector<float> rows(n * dim), queries(nq * dim);
  for (size_t i = 0; i < n * dim; ++i) rows[i] = static_cast<unsigned char>(train[i]);
  for (size_t i = 0; i < nq * dim; ++i) queries[i] = static_cast<unsigned char>(test[i]);
  auto index = Make("hnsw", dim, Metric::kL2);
  std::vector<uint64_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = i + 1;
  REQUIRE(index->AddBatch(labels, rows.data(), 2).ok());

  // label 3: 10% of rows; label 3 and row % 10 == 0: 1%.
  std::unordered_set<uint64_t> ten, one;
  for (size_t i = 0; i < n; ++i) {
    if (train_labels[i] != 3) continue;
    ten.insert(labels[i]);
    if (i % 10 == 0) one.insert(labels[i]);
  }
  for (const auto& [name, chosen, floor] :
       {std::tuple{"10%", &ten, 0.95}, std::tuple{"1%", &one, 0.95}}) {
    CAPTURE(name, chosen->size());
    const SetFilter filter(*chosen);
    const auto list = filter.List();
    double recall = 0;
    for (size_t q = 0; q < nq; ++q) {
      auto got = index->FilteredSearch(&queries[q * dim], k, ef, filter);
      auto truth = index->ExactAmong(&queries[q * dim], list, k);
      REQUIRE(got.ok());
      REQUIRE(truth.ok());
      for (const auto& hit : *got) REQUIRE(chosen->count(hit.label) == 1);
      recall += Recall(*got, *truth);
    }
    recall /= nq;
    INFO("recall@10 at ef 64: " << recall);
    CHECK(recall >= floor);
  }
}

}  // namespace hartonomous::index
