// Spatial commands of `hartonomous`:
//   refit COLLECTION    fit the collection's 3D projection (PCA by default)
//                       and reproject every embedding; prints the scale
//   spatial COLLECTION  points within a radius or a box of a point, or the k
//                       nearest, over fine, coarse or atom points
//   hybrid COLLECTION   spatial prefilter then exact rerank, with the
//                       candidate count and (--recall) the recall@k
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <vector>

#include "cli_args.h"

namespace hartonomous::cli {

std::vector<OptionSpec> RefitOptions();
std::vector<OptionSpec> SpatialOptions();
std::vector<OptionSpec> HybridOptions();
void RunRefit(const Invocation& invocation);
void RunSpatial(const Invocation& invocation);
void RunHybrid(const Invocation& invocation);

}  // namespace hartonomous::cli
