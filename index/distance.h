// The metrics' distances over the kernels chosen for this CPU (kernels.h):
// what the indexes, the exact scans and the rerank stages compute.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <vector>

#include "index/vector_index.h"

namespace hartonomous::index {

float SquaredL2(const float* a, const float* b, size_t dim);
// SquaredL2, abandoned once a partial sum exceeds bound: returns the same
// value as SquaredL2 when that is <= bound, and some value > bound (at most
// the full distance) otherwise. The partial sums only grow, so an abandoned
// pair is certainly farther than bound.
float SquaredL2Bounded(const float* a, const float* b, size_t dim, float bound);
float Dot(const float* a, const float* b, size_t dim);
// Scales v to unit length in place; leaves a zero vector unchanged.
void Normalize(float* v, size_t dim);
// A copy of the spec.dimension floats at v as the indexes store and search
// them: normalised for kCosine.
std::vector<float> Prepared(const IndexSpec& spec, const float* v);
// The metric's distance (see vector_index.h). For kCosine both vectors must
// already be normalised.
float Distance(Metric metric, const float* a, const float* b, size_t dim);
// The same distance as one function of the chosen kernels, for loops:
// fn(a, b, &dim) with dim a size_t.
using MetricFunction = float (*)(const void* a, const void* b, const void* dim);
// A MetricFunction abandoned once the distance is known to exceed bound:
// returns exactly the unbounded value when that is <= bound, and otherwise
// some value > bound.
using BoundedMetricFunction = float (*)(const void* a, const void* b, const void* param,
                                        float bound);
MetricFunction MetricKernel(Metric metric);
// MetricKernel(metric) as a BoundedMetricFunction for kL2 (the same param);
// nullptr for the other metrics.
BoundedMetricFunction BoundedMetricKernel(Metric metric);

}  // namespace hartonomous::index
