// ScanInChunks and the exact scans built on it: the answer of a scan cut
// into chunks over several threads is the answer of one thread scoring every
// item; every item is scored once; a stop ends the scan with its status.
#include "index/parallel_scan.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <numeric>
#include <random>
#include <set>

#include "base/scan_workers.h"
#include "index/flat_index.h"
#include "tests/unit/fields.h"
#include "tests/unit/index/index_test_util.h"

namespace hartonomous::index {
namespace {

// Distances with many ties, so that the order by label is exercised.
float TieDistance(size_t i) { return static_cast<float>((i * 7919) % 1000); }

std::vector<Neighbor> SerialNearest(size_t n, size_t k) {
  std::vector<Neighbor> all;
  for (size_t i = 0; i < n; ++i) all.push_back({i, TieDistance(i)});
  SortAndTruncate(&all, k);
  return all;
}

TEST_CASE("ScanInChunks: the nearest k of a large scan, every item scored once", "[scan]") {
  // 200,000 items of 16 bytes: 3.2 MB, above kParallelScanBytes.
  constexpr size_t kItems = 200000;
  REQUIRE(kItems * 16 >= kParallelScanBytes);
  for (size_t k : {size_t{0}, size_t{1}, size_t{10}, size_t{2500}}) {
    std::vector<std::atomic<uint8_t>> scored(kItems);
    const BestK best_k(k);
    auto result = ScanInChunks(kItems, 16, k, nullptr,
                               [&](size_t begin, size_t end, std::vector<Neighbor>* best) {
                                 for (size_t i = begin; i < end; ++i) {
                                   scored[i].fetch_add(1);
                                   best_k.Offer(best, {i, TieDistance(i)});
                                 }
                               });
    REQUIRE(result.ok());
    CHECK(*result == SerialNearest(kItems, k));
    size_t once = 0;
    for (auto& s : scored) once += s.load() == 1 ? 1 : 0;
    CHECK(once == kItems);
  }
  // A scorer that keeps every score gets the same nearest k.
  auto every = ScanInChunks(kItems, 16, 10, nullptr,
                            [&](size_t begin, size_t end, std::vector<Neighbor>* best) {
                              for (size_t i = begin; i < end; ++i)
                                best->push_back({i, TieDistance(i)});
                            });
  REQUIRE(every.ok());
  CHECK(*every == SerialNearest(kItems, 10));
}

TEST_CASE("ScanInChunks: a passed deadline or a cancel ends the scan with its status", "[scan]") {
  constexpr size_t kItems = 200000;
  std::atomic<size_t> scored{0};
  auto score = [&](size_t begin, size_t end, std::vector<Neighbor>* best) {
    for (size_t i = begin; i < end; ++i) best->push_back({i, TieDistance(i)});
    scored.fetch_add(end - begin);
  };
  const Cancellation passed(Cancellation::Clock::now() - std::chrono::seconds(1), nullptr);
  auto late = ScanInChunks(kItems, 16, 10, &passed, score);
  CHECK(late.status().code() == Status::Code::kDeadlineExceeded);
  CHECK(scored.load() == 0);

  // Cancelled once a few chunks have been checked: the rest is skipped.
  std::atomic<int> checks{0};
  const Cancellation cancel(Cancellation::Clock::time_point::max(),
                            [&] { return checks.fetch_add(1) >= 3; });
  scored = 0;
  auto cancelled = ScanInChunks(kItems, 16, 10, &cancel, score);
  CHECK(cancelled.status().code() == Status::Code::kCancelled);
  CHECK(scored.load() < kItems);
  // Small scans (one thread) stop the same way.
  scored = 0;
  auto small = ScanInChunks(100, 16, 10, &passed, score);
  CHECK(small.status().code() == Status::Code::kDeadlineExceeded);
  CHECK(scored.load() == 0);
}

TEST_CASE("exact scans over 1 MB of vectors equal the brute force, for hnsw and flat", "[scan]") {
  // 4,000 x 64 floats: 1 MB, cut into chunks when the machine has helpers.
  constexpr size_t kRows = 4000, kDim = 64;
  REQUIRE(kRows * kDim * sizeof(float) >= kParallelScanBytes);
  INFO("scan threads: " << ScanWorkers::Shared().slots());
  const std::vector<float> rows = testing::RandomRows(kRows, kDim, 41);
  const std::vector<float> queries = testing::RandomRows(8, kDim, 42);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    for (const char* kind : {"hnsw", "flat"}) {
      INFO(kind << " metric " << static_cast<int>(metric));
      auto index = testing::Make(kind, kDim, metric);
      for (size_t i = 0; i < kRows; ++i) REQUIRE(index->Add(i + 1, &rows[i * kDim]).ok());
      REQUIRE(index->Remove(7).ok());
      std::vector<uint64_t> candidates(kRows + 1);
      std::iota(candidates.begin(), candidates.end(), 0);  // 0 is absent, 7 removed
      std::shuffle(candidates.begin(), candidates.end(), std::mt19937(43));
      for (size_t q = 0; q < 8; ++q) {
        const float* query = &queries[q * kDim];
        auto all = index->ExactSearch(query, kRows);
        REQUIRE(all.ok());
        REQUIRE(all->size() == kRows - 1);
        CHECK(std::is_sorted(all->begin(), all->end(), [](const Neighbor& a, const Neighbor& b) {
          return a.distance < b.distance;
        }));
        const std::vector<uint64_t> listed = hartonomous::testing::FieldOf(*all, &Neighbor::label);
        const std::set<uint64_t> labels(listed.begin(), listed.end());
        CHECK(labels.size() == kRows - 1);
        CHECK(labels.count(7) == 0);
        // The nearest 10 of a full scan, of a shuffled candidate list, and
        // the head of the sorted full list agree.
        auto nearest = index->ExactSearch(query, 10);
        auto among = index->ExactAmong(query, candidates, 10);
        REQUIRE(nearest.ok());
        REQUIRE(among.ok());
        CHECK(*among == *nearest);
        CHECK(std::vector<Neighbor>(all->begin(), all->begin() + 10) == *nearest);
      }
    }
  }
}

}  // namespace
}  // namespace hartonomous::index
