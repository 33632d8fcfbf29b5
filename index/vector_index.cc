#include "index/vector_index.h"

#include <algorithm>

namespace hartonomous::index {

const char* MetricName(Metric metric) {
  switch (metric) {
    case Metric::kCosine: return "cosine";
    case Metric::kL2: return "l2";
    case Metric::kInnerProduct: return "ip";
  }
  return "unknown";
}

Result<Metric> ParseMetric(std::string_view name) {
  if (name == "cosine") return Metric::kCosine;
  if (name == "l2") return Metric::kL2;
  if (name == "ip") return Metric::kInnerProduct;
  return Status::InvalidArgument("metric: unknown '" + std::string(name) +
                                 "'; expected cosine, l2 or ip");
}

void SortAndTruncate(std::vector<Neighbor>* neighbors, size_t k) {
  auto less = [](const Neighbor& a, const Neighbor& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.label < b.label;
  };
  if (neighbors->size() > k) {
    std::partial_sort(neighbors->begin(), neighbors->begin() + static_cast<ptrdiff_t>(k),
                      neighbors->end(), less);
    neighbors->resize(k);
  } else {
    std::sort(neighbors->begin(), neighbors->end(), less);
  }
}

}  // namespace hartonomous::index
