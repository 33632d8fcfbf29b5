// ScalarQuantizer: float vectors as 8-bit codes ("sq8"), with distances
// between codes computed by the integer kernels (kernels.h).
//
// Component d of a vector x is stored as
//   c_d = clamp(round((x_d - lo_d) / step), 0, 255)
// with an offset lo_d per dimension and one step for all dimensions (the
// widest dimension's range / 255), so that
//   |x - y|^2 ~ step^2 * sum_d (c_x,d - c_y,d)^2
//   <x, y>   ~ sum_d lo_d^2 + t_x + t_y + step^2 * sum_d c_x,d c_y,d,
//              t_x = step * sum_d lo_d c_x,d
// are exact integer sums plus per-vector terms. A code is dim bytes followed
// by t as a float (code_bytes()). Values outside the fitted range are
// clamped (counted by clamped()).
//
// Component order: a code holds the components in decreasing order of their
// variance over the training rows (order()[j] is the dimension at byte j).
// The sums above do not depend on the order; a distance abandoned past a
// bound (bounded_distance) reaches the bound in fewer bytes, since the
// components that differ most come first.
//
// Lossless: while every component encoded so far (training rows included)
// sits on the grid, lo_d + step * c_d within kGridTolerance * step (8-bit
// data: image pixels, int8/uint8 embeddings), the codes hold the vectors
// exactly and code distances equal the float distances up to rounding;
// lossless() says so until the first component off the grid is encoded.
//
// Serialized form (Serialize/Parse): u32 dimension, u32 metric, f32 step,
// f32 sum of lo^2, u32 lossless (0 or 1), dimension x f32 lo (by
// dimension), dimension x u32 order; little-endian. A form without the
// order (written before it existed) parses with the dimensions in order.
//
// Thread-safety: immutable after Train/Parse except the clamped counter and
// the lossless flag (atomics); Encode and the distance functions are
// thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "index/distance.h"
#include "index/kernels.h"
#include "index/vector_index.h"

namespace hartonomous::index {

class ScalarQuantizer {
 public:
  static constexpr float kGridTolerance = 1e-4f;

  // Fitted to n rows of dim floats (already prepared: normalised for
  // cosine). REQUIRES: n >= 1, dim >= 1.
  static std::unique_ptr<ScalarQuantizer> Train(const float* rows, size_t n, size_t dim,
                                                Metric metric);
  // DataLoss naming what is wrong when bytes are not a quantizer of this
  // dimension and metric.
  static Result<std::unique_ptr<ScalarQuantizer>> Parse(std::string_view bytes, size_t dim,
                                                        Metric metric);
  std::string Serialize() const;

  size_t dimension() const { return dim_; }
  size_t code_bytes() const { return dim_ + sizeof(float); }
  float step() const { return step_; }
  // Writes code_bytes() bytes for the dim floats at x.
  void Encode(const float* x, uint8_t* out) const;
  // The approximate distance between two codes for the metric (vector_index.h),
  // as a function of hnswlib's signature with param = this quantizer.
  MetricFunction distance() const;
  // L2 only (nullptr for the other metrics): distance() abandoned past a
  // bound, checked after each block of kBoundBlock components (in the code's
  // order).
  static constexpr size_t kBoundBlock = 256;
  BoundedMetricFunction bounded_distance() const;
  const void* param() const { return this; }
  // The dimension stored at each byte of a code (a permutation of 0..dim-1).
  const std::vector<uint32_t>& order() const { return order_; }
  // Components clamped to the fitted range by Encode so far.
  uint64_t clamped() const { return clamped_.load(std::memory_order_relaxed); }
  // True while every vector encoded so far is held exactly (see above).
  bool lossless() const { return lossless_.load(std::memory_order_acquire); }

 private:
  ScalarQuantizer(size_t dim, Metric metric, float step, std::vector<float> lo,
                  std::vector<uint32_t> order, bool lossless);
  static float L2(const void* a, const void* b, const void* param);
  static float L2Bounded(const void* a, const void* b, const void* param, float bound);
  static float OneMinusDot(const void* a, const void* b, const void* param);

  size_t dim_;
  Metric metric_;
  float step_;
  float step2_;
  float lo_squares_ = 0;  // sum_d lo_d^2
  std::vector<float> lo_;
  std::vector<uint32_t> order_;
  const DistanceKernels& kernels_;
  mutable std::atomic<uint64_t> clamped_{0};
  mutable std::atomic<bool> lossless_;
};

}  // namespace hartonomous::index
