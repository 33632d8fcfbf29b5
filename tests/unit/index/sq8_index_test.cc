// ScalarQuantizer and the "hnsw_sq8" index (sq8_index.h): code distances
// track float distances; the index is exact until trained, then answers
// with exact distances read from its VectorSource at a recall floor on
// Fashion-MNIST, in a fraction of "hnsw"'s memory; removed and vanished
// rows never come back; snapshots round-trip and damaged ones are refused.
#include "index/sq8_index.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>

#include "index/distance.h"
#include "index/index_registry.h"
#include "index/scalar_quantizer.h"
#include "index/vector_source.h"
#include "tests/unit/index/index_test_util.h"
#include "tests/unit/temp_dir.h"

namespace hartonomous::index {
namespace {

using testing::FashionRows;
using testing::RandomRows;
using testing::Recall;
using testing::SetFilter;

// Vectors by label in memory, as the engine's LMDB rows are.
class MapSource final : public VectorSource {
 public:
  void Put(uint64_t label, const float* v, size_t dim) {
    std::lock_guard lock(mu_);
    rows_[label].assign(v, v + dim);
  }
  void Erase(uint64_t label) {
    std::lock_guard lock(mu_);
    rows_.erase(label);
  }
  Status Read(const std::vector<uint64_t>& labels, size_t dim, float* out,
              std::vector<bool>* found) const override {
    std::lock_guard lock(mu_);
    found->assign(labels.size(), false);
    for (size_t i = 0; i < labels.size(); ++i) {
      auto it = rows_.find(labels[i]);
      if (it == rows_.end()) continue;
      std::copy(it->second.begin(), it->second.end(), out + i * dim);
      (*found)[i] = true;
    }
    return Status::Ok();
  }

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, std::vector<float>> rows_;
};

struct Sq8 {
  std::shared_ptr<MapSource> source = std::make_shared<MapSource>();
  IndexSpec spec;
  std::unique_ptr<VectorIndex> index;

  Sq8(size_t dim, Metric metric) {
    spec.kind = "hnsw_sq8";
    spec.dimension = dim;
    spec.metric = metric;
    spec.source = source;
    auto made = IndexRegistry::Default().Create(spec);
    REQUIRE(made.ok());
    index = std::move(made).value();
  }
  // Stores the rows (as the engine does before indexing) and adds them.
  void Add(const std::vector<uint64_t>& labels, const float* rows) {
    for (size_t i = 0; i < labels.size(); ++i) {
      source->Put(labels[i], rows + i * spec.dimension, spec.dimension);
    }
    REQUIRE(index->AddBatch(labels, rows, 2).ok());
  }
  bool trained() const { return static_cast<const Sq8Index&>(*index).trained(); }
  bool lossless() const { return static_cast<const Sq8Index&>(*index).lossless(); }
};

std::vector<uint64_t> Labels(size_t n, uint64_t first) {
  std::vector<uint64_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = first + 3 * i;
  return out;
}

}  // namespace

TEST_CASE("sq8 code distances track the float distances", "[index][sq8]") {
  const size_t n = 500, dim = 97;  // odd dimension
  auto rows = RandomRows(n, dim, 5);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
    CAPTURE(MetricName(metric));
    std::vector<float> prepared;
    for (size_t i = 0; i < n; ++i) {
      auto v = Prepared(IndexSpec{"", dim, metric, {}, nullptr}, &rows[i * dim]);
      prepared.insert(prepared.end(), v.begin(), v.end());
    }
    auto q = ScalarQuantizer::Train(prepared.data(), n, dim, metric);
    CHECK(q->clamped() == 0);
    std::vector<uint8_t> a(q->code_bytes()), b(q->code_bytes());
    double worst = 0, scale = 0;
    for (size_t i = 0; i + 1 < n; i += 7) {
      q->Encode(&prepared[i * dim], a.data());
      q->Encode(&prepared[(i + 1) * dim], b.data());
      const float want = Distance(metric, &prepared[i * dim], &prepared[(i + 1) * dim], dim);
      const float got = q->distance()(a.data(), b.data(), q->param());
      worst = std::max(worst, std::abs(double{got} - want));
      scale = std::max(scale, std::abs(double{want}));
    }
    CHECK(q->clamped() == 0);
    // Rounding moves each component by at most step / 2.
    CHECK(worst <= 0.05 * scale);
    CHECK(worst > 0);  // codes are not the floats

    // Serialize / Parse round-trips; damaged forms are refused.
    auto again = ScalarQuantizer::Parse(q->Serialize(), dim, metric);
    REQUIRE(again.ok());
    CHECK((*again)->Serialize() == q->Serialize());
    std::vector<uint8_t> c((*again)->code_bytes());
    (*again)->Encode(&prepared[0], c.data());
    q->Encode(&prepared[0], a.data());
    CHECK(a == c);
    CHECK(ScalarQuantizer::Parse(q->Serialize(), dim + 1, metric).status().code() ==
          Status::Code::kDataLoss);
    CHECK(ScalarQuantizer::Parse(q->Serialize().substr(1), dim, metric).status().code() ==
          Status::Code::kDataLoss);
    const Metric other = metric == Metric::kL2 ? Metric::kCosine : Metric::kL2;
    CHECK(ScalarQuantizer::Parse(q->Serialize(), dim, other).status().code() ==
          Status::Code::kDataLoss);
  }
}

TEST_CASE("sq8 bounded L2 is L2 within its bound and exceeds the bound otherwise", "[index][sq8]") {
  // Dimensions below, at and across the abandon block, and odd ones.
  for (size_t dim : {size_t{1}, size_t{97}, ScalarQuantizer::kBoundBlock,
                     ScalarQuantizer::kBoundBlock + 1, size_t{784}}) {
    CAPTURE(dim);
    const size_t n = 64;
    const auto rows = RandomRows(n, dim, 11 + dim);
    auto q = ScalarQuantizer::Train(rows.data(), n, dim, Metric::kL2);
    const BoundedMetricFunction bounded = q->bounded_distance();
    REQUIRE(bounded != nullptr);
    std::vector<uint8_t> a(q->code_bytes()), b(q->code_bytes());
    size_t abandoned = 0;
    for (size_t i = 0; i + 1 < n; ++i) {
      q->Encode(&rows[i * dim], a.data());
      q->Encode(&rows[(i + 1) * dim], b.data());
      const float full = q->distance()(a.data(), b.data(), q->param());
      for (float bound : {0.0f, full / 4, std::nextafter(full, 0.0f), full, 2 * full,
                          std::numeric_limits<float>::infinity()}) {
        CAPTURE(i, full, bound);
        const float got = bounded(a.data(), b.data(), q->param(), bound);
        if (full <= bound) {
          CHECK(got == full);
        } else {
          CHECK(got > bound);
          CHECK(got <= full);
          ++abandoned;
        }
      }
    }
    CHECK(abandoned > 0);
  }
  // Inner product and cosine have no bounded form.
  const auto rows = RandomRows(16, 8, 3);
  CHECK(ScalarQuantizer::Train(rows.data(), 16, 8, Metric::kCosine)->bounded_distance() == nullptr);
}

TEST_CASE("sq8 codes of 8-bit data are lossless until a vector off the grid arrives",
          "[index][sq8]") {
  const auto pixels = FashionRows(300);  // pixels / 255: on a 1/255 grid
  auto q = ScalarQuantizer::Train(pixels.data(), 200, 784, Metric::kL2);
  CHECK(q->lossless());
  std::vector<uint8_t> a(q->code_bytes()), b(q->code_bytes());
  for (size_t i = 200; i + 1 < 300; i += 10) {
    q->Encode(&pixels[i * 784], a.data());
    q->Encode(&pixels[(i + 1) * 784], b.data());
    const float want = SquaredL2(&pixels[i * 784], &pixels[(i + 1) * 784], 784);
    CHECK(q->distance()(a.data(), b.data(), q->param()) == Approx(want).epsilon(1e-6));
  }
  CHECK(q->lossless());
  auto kept = ScalarQuantizer::Parse(q->Serialize(), 784, Metric::kL2);
  REQUIRE(kept.ok());
  CHECK((*kept)->lossless());
  std::vector<float> off(pixels.begin(), pixels.begin() + 784);
  off[100] += 0.3f / 255;  // between two grid points
  q->Encode(off.data(), a.data());
  CHECK_FALSE(q->lossless());
  auto lost = ScalarQuantizer::Parse(q->Serialize(), 784, Metric::kL2);
  REQUIRE(lost.ok());
  CHECK_FALSE((*lost)->lossless());
  // Gaussian rows are not on any grid.
  const auto gauss = RandomRows(50, 16, 3);
  CHECK_FALSE(ScalarQuantizer::Train(gauss.data(), 50, 16, Metric::kL2)->lossless());
}

TEST_CASE("sq8 codes hold the components by decreasing variance, and older forms parse in order",
          "[index][sq8]") {
  // Fashion-MNIST's border pixels vary little, its centre much.
  const auto pixels = FashionRows(300);
  auto q = ScalarQuantizer::Train(pixels.data(), 300, 784, Metric::kL2);
  const std::vector<uint32_t>& order = q->order();
  REQUIRE(order.size() == 784);
  std::vector<double> variance(784);
  for (size_t d = 0; d < 784; ++d) {
    double sum = 0, squares = 0;
    for (size_t i = 0; i < 300; ++i) {
      sum += pixels[i * 784 + d];
      squares += double{pixels[i * 784 + d]} * pixels[i * 784 + d];
    }
    variance[d] = squares / 300 - (sum / 300) * (sum / 300);
  }
  for (size_t j = 0; j + 1 < 784; ++j) CHECK(variance[order[j]] >= variance[order[j + 1]] - 1e-12);
  CHECK(order != [] {
    std::vector<uint32_t> identity(784);
    std::iota(identity.begin(), identity.end(), 0u);
    return identity;
  }());
  // Byte j of a code is dimension order[j]: two images' codes differ at
  // byte j exactly where their pixels order[j] differ (lossless codes).
  std::vector<uint8_t> code(q->code_bytes()), other(q->code_bytes());
  q->Encode(&pixels[5 * 784], code.data());
  q->Encode(&pixels[6 * 784], other.data());
  size_t differing = 0;
  for (size_t j = 0; j < 784; ++j) {
    const bool pixel_differs = pixels[5 * 784 + order[j]] != pixels[6 * 784 + order[j]];
    CHECK((code[j] != other[j]) == pixel_differs);
    differing += pixel_differs ? 1 : 0;
  }
  CHECK(differing > 100);
  // The form written before the order existed: the same bytes without it.
  const std::string full = q->Serialize();
  auto old = ScalarQuantizer::Parse(full.substr(0, full.size() - 784 * 4), 784, Metric::kL2);
  REQUIRE(old.ok());
  for (uint32_t j = 0; j < 784; ++j) CHECK((*old)->order()[j] == j);
  std::vector<uint8_t> a(q->code_bytes()), b(q->code_bytes()), c(q->code_bytes());
  q->Encode(&pixels[0], a.data());
  q->Encode(&pixels[784], b.data());
  (*old)->Encode(&pixels[0], c.data());
  CHECK(c != a);
  (*old)->Encode(&pixels[784], code.data());
  CHECK(q->distance()(a.data(), b.data(), q->param()) ==
        (*old)->distance()(c.data(), code.data(), (*old)->param()));
  // An order that is not a permutation is refused.
  std::string twice = full;
  std::memcpy(twice.data() + full.size() - 4, twice.data() + full.size() - 8, 4);
  CHECK(ScalarQuantizer::Parse(twice, 784, Metric::kL2).status().code() == Status::Code::kDataLoss);
}

TEST_CASE("sq8 clamps values outside the fitted range and counts them", "[index][sq8]") {
  const float rows[2][3] = {{0, 0, 0}, {1, 2, 1}};
  auto q = ScalarQuantizer::Train(&rows[0][0], 2, 3, Metric::kL2);
  // The byte holding dimension d (components are stored by decreasing
  // variance: dimension 1 first here).
  auto at = [&](const std::vector<uint8_t>& code, uint32_t d) {
    const auto& order = q->order();
    return code[std::find(order.begin(), order.end(), d) - order.begin()];
  };
  REQUIRE(q->order() == std::vector<uint32_t>{1, 0, 2});
  std::vector<uint8_t> code(q->code_bytes());
  const float inside[3] = {1, 2, 1};
  q->Encode(inside, code.data());
  CHECK(at(code, 1) == 255);
  CHECK(q->clamped() == 0);
  const float outside[3] = {-5, 9, NAN};
  q->Encode(outside, code.data());
  CHECK(at(code, 0) == 0);
  CHECK(at(code, 1) == 255);
  CHECK(at(code, 2) == 0);
  CHECK(q->clamped() == 3);
  // Every row equal: one code for all, distance 0.
  const float same[2][2] = {{4, 4}, {4, 4}};
  auto flat = ScalarQuantizer::Train(&same[0][0], 2, 2, Metric::kL2);
  std::vector<uint8_t> x(flat->code_bytes()), y(flat->code_bytes());
  flat->Encode(same[0], x.data());
  flat->Encode(same[1], y.data());
  CHECK(flat->distance()(x.data(), y.data(), flat->param()) == 0);
}

TEST_CASE("hnsw_sq8 needs a source and is exact until it is trained", "[index][sq8]") {
  IndexSpec bare;
  bare.kind = "hnsw_sq8";
  bare.dimension = 8;
  CHECK(IndexRegistry::Default().Check(bare).ok());  // a spec without a source is valid
  CHECK(IndexRegistry::Default().Create(bare).status().code() == Status::Code::kInvalidArgument);

  const size_t dim = 24, n = Sq8Index::kTrainVectors - 1;
  const auto rows = RandomRows(n + 200, dim, 7);
  Sq8 sq8(dim, Metric::kL2);
  const auto labels = Labels(n, 10);
  sq8.Add(labels, rows.data());
  CHECK_FALSE(sq8.trained());
  CHECK(sq8.index->size() == n);
  const auto queries = RandomRows(5, dim, 8);
  for (size_t q = 0; q < 5; ++q) {
    auto ann = sq8.index->Search(&queries[q * dim], 10, 16);
    auto exact = sq8.index->ExactSearch(&queries[q * dim], 10);
    REQUIRE(ann.ok());
    REQUIRE(exact.ok());
    CHECK(*ann == *exact);
  }
  CHECK(sq8.index->Add(labels[0], rows.data()).code() == Status::Code::kAlreadyExists);

  // The vector that reaches kTrainVectors trains it; every label stays.
  sq8.Add({5}, &rows[n * dim]);
  CHECK(sq8.trained());
  CHECK(sq8.index->size() == n + 1);
  CHECK(sq8.index->Contains(5));
  CHECK(sq8.index->Contains(labels[n / 2]));
  CHECK(sq8.index->Add(5, rows.data()).code() == Status::Code::kAlreadyExists);
}

TEST_CASE("hnsw_sq8 on Fashion-MNIST: recall floor, exact distances, a fraction of the memory",
          "[index][sq8]") {
  const size_t n = 6000, dim = 784, nq = 100;
  const auto all = FashionRows(n + nq);
  const std::vector<float> rows(all.begin(), all.begin() + n * dim);
  const float* queries = all.data() + n * dim;  // images not in the index
  const auto labels = Labels(n, 1);
  Sq8 sq8(dim, Metric::kL2);
  // In batches, as the engine adds them.
  for (size_t at = 0; at < n; at += 256) {
    const size_t count = std::min<size_t>(256, n - at);
    sq8.Add(std::vector<uint64_t>(labels.begin() + at, labels.begin() + at + count),
            &rows[at * dim]);
  }
  REQUIRE(sq8.trained());
  CHECK(sq8.lossless());  // 8-bit pixels: answered from the codes alone
  auto floats = testing::Make("hnsw", dim, Metric::kL2);
  REQUIRE(floats->AddBatch(labels, rows.data(), 2).ok());

  double recall = 0;
  for (size_t q = 0; q < nq; ++q) {
    const float* query = queries + q * dim;
    auto got = sq8.index->Search(query, 10, 64);
    auto truth = floats->ExactSearch(query, 10);
    REQUIRE(got.ok());
    REQUIRE(truth.ok());
    REQUIRE(got->size() == 10);
    recall += Recall(*got, *truth);
    // Distances are the exact float distances of the returned labels.
    for (const auto& hit : *got) {
      const size_t row = (hit.label - 1) / 3;
      CHECK(hit.distance == Approx(SquaredL2(query, &rows[row * dim], dim)).epsilon(1e-5));
    }
    // ExactSearch (the codes, lossless here) gives the true answer.
    auto exact = sq8.index->ExactSearch(query, 10);
    REQUIRE(exact.ok());
    REQUIRE(exact->size() == truth->size());
    for (size_t i = 0; i < truth->size(); ++i) CHECK((*exact)[i].label == (*truth)[i].label);
    // ExactAmong over the codes (abandoning candidates past the 10th best)
    // gives the floats' answer, candidates in label order or nearest first.
    std::vector<uint64_t> some;
    for (size_t i = q % 2; i < n; i += 2) some.push_back(labels[i]);
    for (int order = 0; order < 2; ++order) {
      if (order == 1) {
        auto by_distance = floats->ExactAmong(query, some, some.size());
        REQUIRE(by_distance.ok());
        some.clear();
        for (const auto& nb : *by_distance) some.push_back(nb.label);
      }
      auto among = sq8.index->ExactAmong(query, some, 10);
      auto want = floats->ExactAmong(query, some, 10);
      REQUIRE(among.ok());
      REQUIRE(want.ok());
      REQUIRE(among->size() == want->size());
      for (size_t i = 0; i < want->size(); ++i) {
        CHECK((*among)[i].label == (*want)[i].label);
        CHECK((*among)[i].distance == Approx((*want)[i].distance).epsilon(1e-5));
      }
    }
  }
  recall /= nq;
  CAPTURE(recall);
  CHECK(recall >= 0.95);
  // Codes of 788 bytes instead of 3,136 bytes of floats.
  CAPTURE(sq8.index->memory_bytes(), floats->memory_bytes());
  CHECK(sq8.index->memory_bytes() * 100 <= floats->memory_bytes() * 40);
}

TEST_CASE("hnsw_sq8 on real-valued rows: recall floors of Search and RerankAmong", "[index][sq8]") {
  // Gaussian rows, unlike Fashion-MNIST's 8-bit pixels, lose information
  // in the codes: the exact rerank is what keeps recall up.
  const size_t n = 4000, dim = 64, nq = 50;
  const auto rows = RandomRows(n, dim, 41);
  const auto queries = RandomRows(nq, dim, 42);
  for (Metric metric : {Metric::kL2, Metric::kCosine}) {
    CAPTURE(MetricName(metric));
    Sq8 sq8(dim, metric);
    const auto labels = Labels(n, 1);
    sq8.Add(labels, rows.data());
    REQUIRE(sq8.trained());
    CHECK_FALSE(sq8.lossless());  // the rerank path
    double ann = 0, rerank = 0;
    for (size_t q = 0; q < nq; ++q) {
      const float* query = &queries[q * dim];
      auto truth = sq8.index->ExactSearch(query, 10);
      auto got = sq8.index->Search(query, 10, 128);
      // A hybrid stage 2 over a third of the rows.
      std::vector<uint64_t> some;
      for (size_t i = q % 3; i < n; i += 3) some.push_back(labels[i]);
      auto among = sq8.index->ExactAmong(query, some, 10);
      auto fast = sq8.index->RerankAmong(query, some, 10);
      REQUIRE(truth.ok());
      REQUIRE(got.ok());
      REQUIRE(among.ok());
      REQUIRE(fast.ok());
      ann += Recall(*got, *truth);
      rerank += Recall(*fast, *among);
      // RerankAmong's distances are exact: each equals ExactAmong's for that label.
      std::map<uint64_t, float> exact;
      auto all = sq8.index->ExactAmong(query, some, some.size());
      REQUIRE(all.ok());
      for (const auto& nb : *all) exact[nb.label] = nb.distance;
      for (const auto& nb : *fast) CHECK(nb.distance == exact.at(nb.label));
    }
    CAPTURE(ann / nq, rerank / nq);
    CHECK(ann / nq >= 0.9);
    CHECK(rerank / nq >= 0.95);
  }
}

TEST_CASE("hnsw_sq8 never returns removed labels or rows gone from the source", "[index][sq8]") {
  const size_t n = 2000, dim = 16;
  const auto rows = RandomRows(n, dim, 21);
  for (Metric metric : {Metric::kL2, Metric::kCosine, Metric::kInnerProduct}) {
    CAPTURE(MetricName(metric));
    Sq8 sq8(dim, metric);
    const auto labels = Labels(n, 100);
    sq8.Add(labels, rows.data());
    REQUIRE(sq8.trained());
    std::set<uint64_t> gone;
    for (size_t i = 0; i < n; i += 9) {
      REQUIRE(sq8.index->Remove(labels[i]).ok());
      gone.insert(labels[i]);
    }
    // A row deleted from the store whose index removal has not run yet.
    sq8.source->Erase(labels[1]);
    gone.insert(labels[1]);
    const auto queries = RandomRows(10, dim, 22);
    for (size_t q = 0; q < 10; ++q) {
      const float* query = &queries[q * dim];
      auto ann = sq8.index->Search(query, 10, 40);
      auto exact = sq8.index->ExactSearch(query, 10);
      auto among = sq8.index->ExactAmong(query, labels, 10);
      auto rerank = sq8.index->RerankAmong(query, labels, 10);
      REQUIRE(ann.ok());
      REQUIRE(exact.ok());
      REQUIRE(among.ok());
      REQUIRE(rerank.ok());
      CHECK(*exact == *among);
      for (const auto* result : {&*ann, &*exact, &*rerank}) {
        CHECK(result->size() == 10);
        for (const auto& hit : *result) CHECK(gone.count(hit.label) == 0);
      }
      // Filtered: only matching rows; with ef covering the index, the exact answer.
      std::unordered_set<uint64_t> chosen;
      for (size_t i = 0; i < n; i += 4) chosen.insert(labels[i]);
      const SetFilter filter(chosen);
      auto full = sq8.index->FilteredSearch(query, 10, n, filter);
      auto want = sq8.index->ExactAmong(query, filter.List(), 10);
      REQUIRE(full.ok());
      REQUIRE(want.ok());
      CHECK(*full == *want);
      for (const auto& hit : *full) {
        CHECK(chosen.count(hit.label) == 1);
        CHECK(gone.count(hit.label) == 0);
      }
    }
  }
}

TEST_CASE("hnsw_sq8 snapshots round-trip before and after training, and damaged ones are refused",
          "[index][sq8]") {
  hartonomous::testing::TempDir dir;
  const size_t dim = 12;
  const auto rows = RandomRows(1500, dim, 31);
  const auto queries = RandomRows(8, dim, 32);
  for (size_t n : {size_t{300}, size_t{1500}}) {
    CAPTURE(n);
    Sq8 sq8(dim, Metric::kCosine);
    const auto labels = Labels(n, 7);
    sq8.Add(labels, rows.data());
    REQUIRE(sq8.index->Remove(labels[3]).ok());
    const std::string path = dir.dir() + "/sq8-" + std::to_string(n);
    REQUIRE(sq8.index->Save(path).ok());
    auto loaded = IndexRegistry::Default().Load(sq8.spec, path);
    REQUIRE(loaded.ok());
    CHECK(static_cast<const Sq8Index&>(**loaded).trained() == sq8.trained());
    CHECK((*loaded)->size() == sq8.index->size());
    CHECK_FALSE((*loaded)->Contains(labels[3]));
    for (size_t q = 0; q < 8; ++q) {
      auto a = sq8.index->Search(&queries[q * dim], 5, 32);
      auto b = (*loaded)->Search(&queries[q * dim], 5, 32);
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      CHECK(*a == *b);
    }
    // Damage: truncated, a flipped magic byte, a "hnsw" file.
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto write = [&](const std::string& name, const std::string& content) {
      std::ofstream out(dir.dir() + "/" + name, std::ios::binary | std::ios::trunc);
      out << content;
      return dir.dir() + "/" + name;
    };
    for (const std::string& damaged :
         {bytes.substr(0, bytes.size() - 5), bytes.substr(0, bytes.size() / 2),
          bytes.substr(0, bytes.size() - 1) + "x", std::string("short")}) {
      auto bad = IndexRegistry::Default().Load(sq8.spec, write("bad", damaged));
      CHECK(bad.status().code() == Status::Code::kDataLoss);
    }
    IndexSpec other = sq8.spec;
    other.dimension = dim + 1;
    CHECK(IndexRegistry::Default().Load(other, path).status().code() == Status::Code::kDataLoss);
  }
}

}  // namespace hartonomous::index
