#include "index/scalar_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace hartonomous::index {
namespace {

constexpr size_t kHeaderBytes = 5 * sizeof(uint32_t);

template <typename T>
void Append(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian on every target (x86-64)
  out->append(bytes, sizeof(T));
}

template <typename T>
T Take(std::string_view bytes, size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

}  // namespace

ScalarQuantizer::ScalarQuantizer(size_t dim, Metric metric, float step, std::vector<float> lo,
                                 std::vector<uint32_t> order, bool lossless)
    : dim_(dim),
      metric_(metric),
      step_(step),
      step2_(step * step),
      lo_(std::move(lo)),
      order_(std::move(order)),
      kernels_(Kernels()),
      lossless_(lossless) {
  double squares = 0;
  for (float v : lo_) squares += double{v} * v;
  lo_squares_ = static_cast<float>(squares);
}

std::unique_ptr<ScalarQuantizer> ScalarQuantizer::Train(const float* rows, size_t n, size_t dim,
                                                        Metric metric) {
  std::vector<float> lo(rows, rows + dim);
  std::vector<float> hi(rows, rows + dim);
  std::vector<double> sum(dim, 0), squares(dim, 0);
  for (size_t i = 0; i < n; ++i) {
    const float* row = rows + i * dim;
    for (size_t d = 0; d < dim; ++d) {
      lo[d] = std::min(lo[d], row[d]);
      hi[d] = std::max(hi[d], row[d]);
      sum[d] += row[d];
      squares[d] += double{row[d]} * row[d];
    }
  }
  // Components by decreasing variance (ties and non-finite values keep
  // the dimensions' order).
  std::vector<double> variance(dim);
  for (size_t d = 0; d < dim; ++d) {
    const double mean = sum[d] / static_cast<double>(n);
    variance[d] = squares[d] / static_cast<double>(n) - mean * mean;
    if (!std::isfinite(variance[d])) variance[d] = 0;
  }
  std::vector<uint32_t> order(dim);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return variance[a] > variance[b]; });
  float range = 0;
  for (size_t d = 0; d < dim; ++d) range = std::max(range, hi[d] - lo[d]);
  // Every row equal: any positive step codes them all as 0, exactly.
  const float step = range > 0 && std::isfinite(range) ? range / 255.0f : 1.0f;
  auto q = std::unique_ptr<ScalarQuantizer>(
      new ScalarQuantizer(dim, metric, step, std::move(lo), std::move(order), /*lossless=*/true));
  // Encoding the training rows settles whether they sit on the grid.
  std::vector<uint8_t> code(q->code_bytes());
  for (size_t i = 0; i < n && q->lossless(); ++i) q->Encode(rows + i * dim, code.data());
  return q;
}

Result<std::unique_ptr<ScalarQuantizer>> ScalarQuantizer::Parse(std::string_view bytes, size_t dim,
                                                                Metric metric) {
  const size_t without_order = kHeaderBytes + dim * sizeof(float);
  const size_t with_order = without_order + dim * sizeof(uint32_t);
  if (bytes.size() != with_order && bytes.size() != without_order) {
    return Status::DataLoss("sq8 quantizer: " + std::to_string(bytes.size()) + " bytes, expected " +
                            std::to_string(with_order));
  }
  if (Take<uint32_t>(bytes, 0) != dim) {
    return Status::DataLoss("sq8 quantizer: dimension " + std::to_string(Take<uint32_t>(bytes, 0)) +
                            ", the index has " + std::to_string(dim));
  }
  if (Take<uint32_t>(bytes, 4) != static_cast<uint32_t>(metric)) {
    return Status::DataLoss("sq8 quantizer: fitted for another metric");
  }
  const float step = Take<float>(bytes, 8);
  if (!(step > 0) || !std::isfinite(step)) {
    return Status::DataLoss("sq8 quantizer: step " + std::to_string(step) + " is not positive");
  }
  const uint32_t lossless = Take<uint32_t>(bytes, 16);
  if (lossless > 1) return Status::DataLoss("sq8 quantizer: lossless flag is not 0 or 1");
  std::vector<float> lo(dim);
  std::memcpy(lo.data(), bytes.data() + kHeaderBytes, dim * sizeof(float));
  for (float v : lo) {
    if (!std::isfinite(v)) return Status::DataLoss("sq8 quantizer: an offset is not finite");
  }
  std::vector<uint32_t> order(dim);
  std::iota(order.begin(), order.end(), 0u);
  if (bytes.size() == with_order) {
    std::vector<bool> seen(dim, false);
    for (size_t j = 0; j < dim; ++j) {
      order[j] = Take<uint32_t>(bytes, without_order + j * sizeof(uint32_t));
      if (order[j] >= dim || seen[order[j]]) {
        return Status::DataLoss("sq8 quantizer: the component order is not a permutation");
      }
      seen[order[j]] = true;
    }
  }
  return std::unique_ptr<ScalarQuantizer>(
      new ScalarQuantizer(dim, metric, step, std::move(lo), std::move(order), lossless == 1));
}

std::string ScalarQuantizer::Serialize() const {
  std::string out;
  out.reserve(kHeaderBytes + dim_ * (sizeof(float) + sizeof(uint32_t)));
  Append<uint32_t>(&out, static_cast<uint32_t>(dim_));
  Append<uint32_t>(&out, static_cast<uint32_t>(metric_));
  Append<float>(&out, step_);
  Append<float>(&out, lo_squares_);
  Append<uint32_t>(&out, lossless() ? 1 : 0);
  for (float v : lo_) Append<float>(&out, v);
  for (uint32_t d : order_) Append<uint32_t>(&out, d);
  return out;
}

void ScalarQuantizer::Encode(const float* x, uint8_t* out) const {
  const float inv = 1.0f / step_;
  const float tolerance = kGridTolerance * step_;
  uint64_t clamped = 0;
  bool on_grid = true;
  double t = 0;
  for (size_t j = 0; j < dim_; ++j) {
    const uint32_t d = order_[j];
    float c = std::nearbyint((x[d] - lo_[d]) * inv);
    on_grid &= std::abs(lo_[d] + step_ * c - x[d]) <= tolerance;
    if (!(c >= 0)) {  // also NaN
      c = 0;
      ++clamped;
      on_grid = false;
    } else if (c > 255) {
      c = 255;
      ++clamped;
      on_grid = false;
    }
    out[j] = static_cast<uint8_t>(c);
    t += double{lo_[d]} * out[j];
  }
  const float term = static_cast<float>(t * step_);
  std::memcpy(out + dim_, &term, sizeof(term));
  if (clamped != 0) clamped_.fetch_add(clamped, std::memory_order_relaxed);
  if (!on_grid && lossless_.load(std::memory_order_relaxed)) {
    lossless_.store(false, std::memory_order_release);
  }
}

MetricFunction ScalarQuantizer::distance() const {
  return metric_ == Metric::kL2 ? &ScalarQuantizer::L2 : &ScalarQuantizer::OneMinusDot;
}

float ScalarQuantizer::L2(const void* a, const void* b, const void* param) {
  const auto* q = static_cast<const ScalarQuantizer*>(param);
  const uint32_t sum = q->kernels_.squared_l2_u8(static_cast<const uint8_t*>(a),
                                                 static_cast<const uint8_t*>(b), q->dim_);
  return q->step2_ * static_cast<float>(sum);
}

BoundedMetricFunction ScalarQuantizer::bounded_distance() const {
  return metric_ == Metric::kL2 ? &ScalarQuantizer::L2Bounded : nullptr;
}

float ScalarQuantizer::L2Bounded(const void* a, const void* b, const void* param, float bound) {
  const auto* q = static_cast<const ScalarQuantizer*>(param);
  const auto* ca = static_cast<const uint8_t*>(a);
  const auto* cb = static_cast<const uint8_t*>(b);
  // The integer partial sums are exact, so the full sum (and the value L2
  // returns) does not depend on the blocks.
  uint32_t sum = 0;
  for (size_t d = 0; d < q->dim_; d += kBoundBlock) {
    sum += q->kernels_.squared_l2_u8(ca + d, cb + d, std::min(kBoundBlock, q->dim_ - d));
    const float partial = q->step2_ * static_cast<float>(sum);
    if (partial > bound) return partial;
  }
  return q->step2_ * static_cast<float>(sum);
}

float ScalarQuantizer::OneMinusDot(const void* a, const void* b, const void* param) {
  const auto* q = static_cast<const ScalarQuantizer*>(param);
  const auto* ca = static_cast<const uint8_t*>(a);
  const auto* cb = static_cast<const uint8_t*>(b);
  const uint32_t sum = q->kernels_.dot_u8(ca, cb, q->dim_);
  float ta, tb;
  std::memcpy(&ta, ca + q->dim_, sizeof(ta));
  std::memcpy(&tb, cb + q->dim_, sizeof(tb));
  return 1.0f - (q->lo_squares_ + ta + tb + q->step2_ * static_cast<float>(sum));
}

}  // namespace hartonomous::index
