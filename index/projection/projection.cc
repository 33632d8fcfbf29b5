#include "index/projection/projection.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace hartonomous::index {
namespace {

constexpr size_t kMaxDimension = 16384;
constexpr int kPcaIterations = 30;

// Orthonormalizes the rows of a 3 x d matrix in place (modified Gram-Schmidt).
// Rows that vanish (d < 3 or degenerate input) become zero.
void Orthonormalize(std::vector<double>& m, size_t d) {
  for (size_t r = 0; r < 3; ++r) {
    double* row = &m[r * d];
    for (size_t p = 0; p < r; ++p) {
      const double* prev = &m[p * d];
      double dot = 0;
      for (size_t i = 0; i < d; ++i) dot += row[i] * prev[i];
      for (size_t i = 0; i < d; ++i) row[i] -= dot * prev[i];
    }
    double norm = 0;
    for (size_t i = 0; i < d; ++i) norm += row[i] * row[i];
    norm = std::sqrt(norm);
    for (size_t i = 0; i < d; ++i) row[i] = norm > 1e-12 ? row[i] / norm : 0.0;
  }
}

class RandomProjection final : public Projection {
 public:
  RandomProjection(size_t dimension, uint64_t seed) : Projection(dimension) {
    if (dimension <= 3) {
      for (size_t r = 0; r < dimension; ++r) axes_[r * dimension + r] = 1.0;
      return;
    }
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> gauss;
    for (auto& v : axes_) v = gauss(rng);
    Orthonormalize(axes_, dimension);
  }
  Status Fit(const std::vector<float>& sample, size_t rows) override {
    if (sample.size() != rows * dimension_) {
      return Status::InvalidArgument("sample: size is not rows x dimension");
    }
    MeasureScale(sample, rows);
    return Status::Ok();
  }
  Point3 Project(const float* v) const override { return Apply(v); }
  std::string_view kind() const override { return "random"; }
};

class PcaProjection final : public Projection {
 public:
  explicit PcaProjection(size_t dimension) : Projection(dimension) {
    for (size_t r = 0; r < std::min<size_t>(3, dimension); ++r) axes_[r * dimension + r] = 1.0;
  }
  Status Fit(const std::vector<float>& sample, size_t rows) override;
  Point3 Project(const float* v) const override { return Apply(v); }
  std::string_view kind() const override { return "pca"; }
};

Status PcaProjection::Fit(const std::vector<float>& sample, size_t rows) {
  const size_t d = dimension_;
  if (sample.size() != rows * d)
    return Status::InvalidArgument("sample: size is not rows x dimension");
  if (rows < kMinPcaSample) {
    return Status::InvalidArgument("sample: PCA needs at least " + std::to_string(kMinPcaSample) +
                                   " vectors, got " + std::to_string(rows));
  }
  std::vector<double> mean(d, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < d; ++i) mean[i] += sample[r * d + i];
  }
  for (auto& m : mean) m /= static_cast<double>(rows);
  // Orthogonal iteration: Q <- orth(C Q) with C = Xc^T Xc, computed as
  // Xc^T (Xc Q) without forming C.
  std::vector<double> q(3 * d, 0.0);
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> gauss;
  for (auto& v : q) v = gauss(rng);
  if (d <= 3) {
    std::fill(q.begin(), q.end(), 0.0);
    for (size_t r = 0; r < d; ++r) q[r * d + r] = 1.0;
  }
  Orthonormalize(q, d);
  std::vector<double> xq(rows * 3);
  for (int it = 0; it < kPcaIterations && d > 3; ++it) {
    for (size_t r = 0; r < rows; ++r) {
      const float* x = &sample[r * d];
      for (size_t c = 0; c < 3; ++c) {
        const double* qc = &q[c * d];
        double dot = 0;
        for (size_t i = 0; i < d; ++i) dot += (x[i] - mean[i]) * qc[i];
        xq[r * 3 + c] = dot;
      }
    }
    std::fill(q.begin(), q.end(), 0.0);
    for (size_t r = 0; r < rows; ++r) {
      const float* x = &sample[r * d];
      for (size_t c = 0; c < 3; ++c) {
        double* qc = &q[c * d];
        const double w = xq[r * 3 + c];
        for (size_t i = 0; i < d; ++i) qc[i] += (x[i] - mean[i]) * w;
      }
    }
    Orthonormalize(q, d);
  }
  axes_ = std::move(q);
  mean_ = std::move(mean);
  MeasureScale(sample, rows);
  // Order axes by decreasing variance (orthogonal iteration converges to the
  // subspace; within it, sort).
  std::array<size_t, 3> order{0, 1, 2};
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scale_[a] > scale_[b]; });
  std::vector<double> sorted(3 * d);
  std::array<double, 3> sorted_scale{};
  for (size_t k = 0; k < 3; ++k) {
    std::copy_n(&axes_[order[k] * d], d, &sorted[k * d]);
    sorted_scale[k] = scale_[order[k]];
  }
  axes_ = std::move(sorted);
  scale_ = sorted_scale;
  return Status::Ok();
}

}  // namespace

Point3 Projection::Apply(const float* v) const {
  const size_t d = dimension_;
  double out[3] = {0, 0, 0};
  for (size_t c = 0; c < 3; ++c) {
    const double* a = &axes_[c * d];
    double dot = 0;
    for (size_t i = 0; i < d; ++i) dot += (v[i] - mean_[i]) * a[i];
    out[c] = dot;
  }
  return Point3{out[0], out[1], out[2]};
}

void Projection::MeasureScale(const std::vector<float>& sample, size_t rows) {
  if (rows == 0) return;
  std::array<double, 3> sum{}, sum2{};
  for (size_t r = 0; r < rows; ++r) {
    const Point3 p = Apply(&sample[r * dimension_]);
    const double c[3] = {p.x, p.y, p.z};
    for (size_t k = 0; k < 3; ++k) {
      sum[k] += c[k];
      sum2[k] += c[k] * c[k];
    }
  }
  for (size_t k = 0; k < 3; ++k) {
    const double m = sum[k] / static_cast<double>(rows);
    scale_[k] = std::sqrt(std::max(0.0, sum2[k] / static_cast<double>(rows) - m * m));
  }
}

Status Projection::Restore(std::vector<double> axes, std::vector<double> mean,
                           std::array<double, 3> scale) {
  if (axes.size() != 3 * dimension_ || mean.size() != dimension_) {
    return Status::InvalidArgument("projection: stored state does not match dimension " +
                                   std::to_string(dimension_));
  }
  axes_ = std::move(axes);
  mean_ = std::move(mean);
  scale_ = scale;
  return Status::Ok();
}

Result<std::unique_ptr<Projection>> MakeProjection(std::string_view kind, size_t dimension,
                                                   uint64_t seed) {
  if (dimension == 0 || dimension > kMaxDimension) {
    return Status::InvalidArgument("dimension: must be in 1..16384, got " +
                                   std::to_string(dimension));
  }
  if (kind == "random") return std::unique_ptr<Projection>(new RandomProjection(dimension, seed));
  if (kind == "pca") return std::unique_ptr<Projection>(new PcaProjection(dimension));
  return Status::InvalidArgument("projection kind: unknown '" + std::string(kind) +
                                 "' (known: random, pca)");
}

}  // namespace hartonomous::index
