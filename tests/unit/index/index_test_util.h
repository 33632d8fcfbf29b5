// Helpers shared by the vector index unit tests: seeded random rows and an
// index made through the registry.
#pragma once

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_set>
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

// A filter that matches a fixed set of labels.
class SetFilter final : public LabelFilter {
 public:
  explicit SetFilter(std::unordered_set<uint64_t> labels) : labels_(std::move(labels)) {}
  bool Matches(uint64_t label) const override { return labels_.count(label) != 0; }
  std::vector<uint64_t> List() const { return {labels_.begin(), labels_.end()}; }

 private:
  std::unordered_set<uint64_t> labels_;
};

// The gzip-compressed IDX file's payload after its header.
inline std::string ReadIdx(const std::string& path, size_t header, size_t bytes) {
  gzFile f = gzopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::string out(header + bytes, '\0');
  const int got = gzread(f, out.data(), static_cast<unsigned>(out.size()));
  gzclose(f);
  REQUIRE(got == static_cast<int>(out.size()));
  return out.substr(header);
}

inline constexpr char kFashionDir[] = "/usr/share/datasets/fashion-mnist/";

// The first n Fashion-MNIST training images as rows of 784 floats (pixels / 255).
inline std::vector<float> FashionRows(size_t n) {
  const std::string pixels =
      ReadIdx(std::string(kFashionDir) + "train-images-idx3-ubyte.gz", 16, n * 784);
  std::vector<float> rows(n * 784);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i] = static_cast<unsigned char>(pixels[i]) / 255.0f;
  }
  return rows;
}

// The share of truth's labels that got holds.
inline double Recall(const std::vector<Neighbor>& got, const std::vector<Neighbor>& truth) {
  std::set<uint64_t> want;
  for (const auto& n : truth) want.insert(n.label);
  size_t hit = 0;
  for (const auto& n : got) hit += want.count(n.label);
  return truth.empty() ? 1.0 : static_cast<double>(hit) / truth.size();
}

}  // namespace hartonomous::index::testing
