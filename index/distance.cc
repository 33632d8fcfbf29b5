#include "index/distance.h"

#include <cmath>

#include "index/kernels.h"

namespace hartonomous::index {

float SquaredL2(const float* a, const float* b, size_t dim) {
  return Kernels().squared_l2(a, b, dim);
}

float SquaredL2Bounded(const float* a, const float* b, size_t dim, float bound) {
  return Kernels().squared_l2_bounded(a, b, dim, bound);
}

float Dot(const float* a, const float* b, size_t dim) { return Kernels().dot(a, b, dim); }

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
  return MetricKernel(metric)(a, b, &dim);
}

MetricFunction MetricKernel(Metric metric) {
  return metric == Metric::kL2 ? Kernels().hnsw_l2 : Kernels().hnsw_ip;
}

BoundedMetricFunction BoundedMetricKernel(Metric metric) {
  return metric == Metric::kL2 ? Kernels().hnsw_l2_bounded : nullptr;
}

}  // namespace hartonomous::index
