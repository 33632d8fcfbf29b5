// The per-instruction-set kernel tables behind kernels.h. Each lives in its
// own translation unit whose code is compiled for its instruction set (a
// target pragma after the includes); only kernels.cc, which checks the CPU
// first, refers to them.
#pragma once

#include "index/kernels.h"

namespace hartonomous::index::internal {

extern const DistanceKernels kBaselineKernels;
extern const DistanceKernels kAvx2Kernels;
extern const DistanceKernels kAvx512Kernels;

}  // namespace hartonomous::index::internal
