#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include "index/distance.h"
#include "index/flat_index.h"
#include "index/index_registry.h"
#include "tests/unit/fields.h"
#include "tests/unit/temp_dir.h"

namespace hartonomous::index {
namespace {

std::vector<std::vector<float>> RandomVectors(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (auto& v : out) {
    for (auto& x : v) x = dist(rng);
  }
  return out;
}

IndexSpec Spec(const std::string& kind, size_t dim, Metric metric) {
  return IndexSpec{kind, dim, metric, {}, nullptr};
}

// Reference distance computed in double precision, independently of the
// index's kernels.
double RefDistance(Metric metric, const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0, l2 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
    l2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  }
  switch (metric) {
    case Metric::kL2:
      return l2;
    case Metric::kInnerProduct:
      return 1 - dot;
    case Metric::kCosine:
      return 1 - dot / std::sqrt(na * nb);
  }
  return 0;
}

std::vector<uint64_t> BruteForce(Metric metric, const std::vector<std::vector<float>>& data,
                                 const std::vector<float>& q, size_t k,
                                 const std::set<uint64_t>& skip = {}) {
  std::vector<std::pair<double, uint64_t>> all;
  for (size_t i = 0; i < data.size(); ++i) {
    if (skip.count(i)) continue;
    all.emplace_back(RefDistance(metric, q, data[i]), i);
  }
  std::sort(all.begin(), all.end());
  std::vector<uint64_t> out;
  for (size_t i = 0; i < std::min(k, all.size()); ++i) out.push_back(all[i].second);
  return out;
}

std::unique_ptr<VectorIndex> Make(const IndexSpec& spec) {
  auto index = IndexRegistry::Default().Create(spec);
  REQUIRE(index.ok());
  return std::move(index).value();
}

// Every row of data, row i as label i.
void AddAll(VectorIndex& index, const std::vector<std::vector<float>>& data) {
  for (size_t i = 0; i < data.size(); ++i) REQUIRE(index.Add(i, data[i].data()).ok());
}

// Removes the labels below n that are multiples of step; returns them.
std::set<uint64_t> RemoveEvery(VectorIndex& index, uint64_t n, uint64_t step) {
  std::set<uint64_t> removed;
  for (uint64_t label = 0; label < n; label += step) {
    REQUIRE(index.Remove(label).ok());
    removed.insert(label);
  }
  return removed;
}

std::vector<uint64_t> LabelsOf(const std::vector<Neighbor>& neighbors) {
  return testing::FieldOf(neighbors, &Neighbor::label);
}

TEST_CASE("flat index returns the exact nearest neighbours for every metric") {
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
    CAPTURE(MetricName(metric));
    auto data = RandomVectors(500, 24, 1);
    auto index = Make(Spec("flat", 24, metric));
    AddAll(*index, data);
    REQUIRE(index->size() == 500);
    for (const auto& q : RandomVectors(20, 24, 2)) {
      auto got = index->Search(q.data(), 10, 0);
      REQUIRE(got.ok());
      REQUIRE(LabelsOf(*got) == BruteForce(metric, data, q, 10));
      for (const auto& n : *got) {
        REQUIRE(n.distance == Approx(RefDistance(metric, q, data[n.label])).margin(1e-4));
      }
    }
  }
}

TEST_CASE("flat index removal moves the last vector and keeps answers exact") {
  auto data = RandomVectors(100, 8, 3);
  auto index = Make(Spec("flat", 8, Metric::kL2));
  AddAll(*index, data);
  const std::set<uint64_t> removed = RemoveEvery(*index, 100, 3);
  REQUIRE(index->Remove(0).code() == Status::Code::kNotFound);
  REQUIRE(index->Add(1, data[1].data()).code() == Status::Code::kAlreadyExists);
  REQUIRE(index->size() == 100 - removed.size());
  for (const auto& q : RandomVectors(10, 8, 4)) {
    auto got = index->Search(q.data(), 100, 0);
    REQUIRE(got.ok());
    REQUIRE(LabelsOf(*got) == BruteForce(Metric::kL2, data, q, 100, removed));
  }
}

TEST_CASE("hnsw recall against the exact index stays above the floor") {
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
    CAPTURE(MetricName(metric));
    const size_t dim = 32, n = 3000, k = 10;
    auto data = RandomVectors(n, dim, 5);
    if (metric == Metric::kInnerProduct) {
      for (auto& v : data) Normalize(v.data(), dim);
    }
    auto hnsw = Make(Spec("hnsw", dim, metric));
    auto flat = Make(Spec("flat", dim, metric));
    for (size_t i = 0; i < n; ++i) {
      REQUIRE(hnsw->Add(i, data[i].data()).ok());
      REQUIRE(flat->Add(i, data[i].data()).ok());
    }
    size_t hits = 0, total = 0;
    for (const auto& q : RandomVectors(100, dim, 6)) {
      auto approx = hnsw->Search(q.data(), k, 128);
      auto exact = flat->Search(q.data(), k, 0);
      REQUIRE(approx.ok());
      REQUIRE(exact.ok());
      REQUIRE(approx->size() == k);
      std::set<uint64_t> truth;
      for (const auto& e : *exact) truth.insert(e.label);
      for (const auto& a : *approx) hits += truth.count(a.label);
      total += k;
    }
    const double recall = double(hits) / double(total);
    CAPTURE(recall);
    REQUIRE(recall >= 0.9);
  }
}

TEST_CASE("hnsw never returns a removed label and ExactAmong is exact") {
  const size_t dim = 16;
  auto data = RandomVectors(1000, dim, 7);
  auto index = Make(Spec("hnsw", dim, Metric::kL2));
  AddAll(*index, data);
  const std::set<uint64_t> removed = RemoveEvery(*index, 1000, 2);
  REQUIRE(index->Remove(0).code() == Status::Code::kNotFound);
  REQUIRE(index->size() == 500);
  REQUIRE(index->deleted() == 500);
  REQUIRE_FALSE(index->Contains(0));
  REQUIRE(index->Contains(1));
  for (const auto& q : RandomVectors(20, dim, 8)) {
    auto got = index->Search(q.data(), 50, 200);
    REQUIRE(got.ok());
    REQUIRE(got->size() == 50);
    for (const auto& n : *got) REQUIRE(removed.count(n.label) == 0);
    std::vector<uint64_t> all;
    for (uint64_t i = 0; i < 1000; ++i) all.push_back(i);
    auto exact = index->ExactAmong(q.data(), all, 10);
    REQUIRE(exact.ok());
    REQUIRE(LabelsOf(*exact) == BruteForce(Metric::kL2, data, q, 10, removed));
    auto scan = index->ExactSearch(q.data(), 10);
    REQUIRE(scan.ok());
    REQUIRE(*scan == *exact);
  }
}

TEST_CASE("indexes saved and loaded answer identically, damaged files are rejected") {
  testing::TempDir dir;
  for (const char* kind : {"hnsw", "flat"}) {
    CAPTURE(kind);
    const size_t dim = 12;
    auto data = RandomVectors(400, dim, 9);
    auto spec = Spec(kind, dim, Metric::kCosine);
    auto index = Make(spec);
    for (size_t i = 0; i < data.size(); ++i) REQUIRE(index->Add(i + 1, data[i].data()).ok());
    REQUIRE(index->Remove(5).ok());
    const std::string path = dir.dir() + "/" + kind + ".snap";
    REQUIRE(index->Save(path).ok());
    auto loaded = IndexRegistry::Default().Load(spec, path);
    REQUIRE(loaded.ok());
    REQUIRE((*loaded)->size() == index->size());
    REQUIRE_FALSE((*loaded)->Contains(5));
    for (const auto& q : RandomVectors(10, dim, 10)) {
      // The loaded index resolves labels for ExactAmong as the original does.
      std::vector<uint64_t> some;
      for (uint64_t label = 1; label <= 400; label += 3) some.push_back(label);
      REQUIRE(*(*loaded)->ExactAmong(q.data(), some, 10) == *index->ExactAmong(q.data(), some, 10));
      auto a = index->Search(q.data(), 10, 64);
      auto b = (*loaded)->Search(q.data(), 10, 64);
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      REQUIRE(*a == *b);
    }
    auto other_dim = Spec(kind, dim + 1, Metric::kCosine);
    REQUIRE(IndexRegistry::Default().Load(other_dim, path).status().code() ==
            Status::Code::kDataLoss);
    // Truncate to half.
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size() / 2);
    REQUIRE_FALSE(IndexRegistry::Default().Load(spec, path).ok());
  }
}

TEST_CASE("the registry picks kinds by name and accepts new ones") {
  auto unknown = IndexRegistry::Default().Create(Spec("ivf", 4, Metric::kL2));
  REQUIRE(unknown.status().code() == Status::Code::kInvalidArgument);
  REQUIRE(unknown.status().message().find("index.kind") != std::string::npos);
  REQUIRE(IndexRegistry::Default()
              .Create(Spec("hnsw", 0, Metric::kL2))
              .status()
              .message()
              .find("dimension") != std::string::npos);
  REQUIRE(IndexRegistry::Default()
              .Create(Spec("flat", kMaxDimension + 1, Metric::kL2))
              .status()
              .code() == Status::Code::kInvalidArgument);
  REQUIRE(IndexRegistry::Default().Create(Spec("flat", kMaxDimension, Metric::kL2)).ok());

  IndexRegistry registry;
  int created = 0;
  registry.Register(
      "mine",
      [&](const IndexSpec& spec) -> Result<std::unique_ptr<VectorIndex>> {
        ++created;
        return std::unique_ptr<VectorIndex>(std::make_unique<FlatIndex>(spec));
      },
      &FlatIndex::Load);
  REQUIRE(registry.Kinds() == std::vector<std::string>{"mine"});
  auto mine = registry.Create(Spec("mine", 3, Metric::kL2));
  REQUIRE(mine.ok());
  REQUIRE(created == 1);
  REQUIRE_FALSE(registry.Create(Spec("hnsw", 3, Metric::kL2)).ok());
}

TEST_CASE("hnsw searches running during inserts only see complete vectors") {
  const size_t dim = 32, n = 4000;
  auto data = RandomVectors(n, dim, 11);
  auto queries = RandomVectors(50, dim, 12);
  auto index = Make(Spec("hnsw", dim, Metric::kL2));
  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0}, bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      size_t i = static_cast<size_t>(t);
      while (!done.load()) {
        const auto& q = queries[i++ % queries.size()];
        auto got = index->Search(q.data(), 10, 32);
        if (!got.ok()) {
          ++bad;
          continue;
        }
        for (const auto& r : *got) {
          // A label is only ever paired with its full vector.
          if (r.label >= n ||
              std::abs(r.distance - RefDistance(Metric::kL2, q, data[r.label])) > 1e-2)
            ++bad;
        }
        ++searches;
      }
    });
  }
  for (size_t i = 0; i < n; ++i)
    REQUIRE(index->Add(i, data[i].data()).ok());  // grows capacity 1024 -> 4096
  done = true;
  for (auto& t : readers) t.join();
  REQUIRE(bad.load() == 0);
  REQUIRE(index->size() == n);
}

TEST_CASE("bounded L2 equals L2 within the bound and exceeds the bound otherwise") {
  std::mt19937 rng(21);
  std::normal_distribution<float> g;
  for (size_t dim : {1, 7, 8, 9, 127, 128, 129, 300, 784}) {
    CAPTURE(dim);
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<float> a(dim), b(dim);
      for (auto& x : a) x = g(rng);
      for (auto& x : b) x = g(rng);
      const float full = SquaredL2(a.data(), b.data(), dim);
      CHECK(SquaredL2Bounded(a.data(), b.data(), dim, full) == full);
      CHECK(SquaredL2Bounded(a.data(), b.data(), dim, std::numeric_limits<float>::infinity()) ==
            full);
      const float tight = full * 0.5f;
      const float cut = SquaredL2Bounded(a.data(), b.data(), dim, tight);
      CHECK(cut > tight);
      CHECK(cut <= full);
    }
  }
}

TEST_CASE("ExactAmong with abandoned distances equals the full exact scan (L2, wide vectors)") {
  const size_t dim = 300;
  auto data = RandomVectors(800, dim, 22);
  auto index = Make(Spec("hnsw", dim, Metric::kL2));
  for (size_t i = 0; i < data.size(); ++i) REQUIRE(index->Add(i + 1, data[i].data()).ok());
  REQUIRE(index->Remove(10).ok());
  std::vector<uint64_t> all;
  for (uint64_t i = 1; i <= 800; ++i) all.push_back(i);
  for (const auto& q : RandomVectors(20, dim, 23)) {
    // Nearest-first and arbitrary candidate orders give the same answer.
    auto scan = index->ExactSearch(q.data(), 15);
    REQUIRE(scan.ok());
    auto among = index->ExactAmong(q.data(), all, 15);
    REQUIRE(among.ok());
    CHECK(*among == *scan);
    auto everything = index->ExactSearch(q.data(), 800);
    REQUIRE(everything.ok());
    const std::vector<uint64_t> nearest_first = LabelsOf(*everything);
    CHECK(*index->ExactAmong(q.data(), nearest_first, 15) == *scan);
    std::vector<uint64_t> reversed(nearest_first.rbegin(), nearest_first.rend());
    CHECK(*index->ExactAmong(q.data(), reversed, 15) == *scan);
  }
  // Duplicated vectors tie on distance; ties go to the smaller label.
  auto twins = Make(Spec("hnsw", dim, Metric::kL2));
  for (uint64_t label : {5, 3, 9, 4}) REQUIRE(twins->Add(label, data[0].data()).ok());
  auto tie = twins->ExactAmong(data[1].data(), {5, 3, 9, 4}, 2);
  REQUIRE(tie->size() == 2);
  CHECK((*tie)[0].label == 3);
  CHECK((*tie)[1].label == 4);
}

}  // namespace
}  // namespace hartonomous::index
