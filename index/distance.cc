#include "index/distance.h"

#include <algorithm>
#include <cmath>

namespace hartonomous::index {

float SquaredL2(const float* a, const float* b, size_t dim) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    for (size_t j = 0; j < 8; ++j) {
      const float d = a[i + j] - b[i + j];
      acc[j] += d * d;
    }
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float SquaredL2Bounded(const float* a, const float* b, size_t dim, float bound) {
  // The same accumulators and final combination as SquaredL2, so a pair that
  // runs to the end gets the identical value; every 128 components the
  // combined partial sum (never more than the final one: the terms are
  // non-negative and rounding is monotonic) is checked against bound.
  constexpr size_t kChunk = 128;
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  auto combined = [&acc] {
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  };
  size_t i = 0;
  while (i + 8 <= dim) {
    const size_t stop = std::min(dim - (dim - i) % 8, i + kChunk);
    for (; i < stop; i += 8) {
      for (size_t j = 0; j < 8; ++j) {
        const float d = a[i + j] - b[i + j];
        acc[j] += d * d;
      }
    }
    if (i + 8 <= dim && combined() > bound) return combined();
  }
  float sum = combined();
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float Dot(const float* a, const float* b, size_t dim) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    for (size_t j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

void Normalize(float* v, size_t dim) {
  const float norm = std::sqrt(Dot(v, v, dim));
  if (norm == 0.0f) return;
  const float inv = 1.0f / norm;
  for (size_t i = 0; i < dim; ++i) v[i] *= inv;
}

std::vector<float> Prepared(const IndexSpec& spec, const float* v) {
  std::vector<float> out(v, v + spec.dimension);
  if (spec.metric == Metric::kCosine) Normalize(out.data(), out.size());
  return out;
}

float Distance(Metric metric, const float* a, const float* b, size_t dim) {
  switch (metric) {
    case Metric::kL2:
      return SquaredL2(a, b, dim);
    case Metric::kInnerProduct:
    case Metric::kCosine:
      return 1.0f - Dot(a, b, dim);
  }
  return 0;
}

}  // namespace hartonomous::index
