#include "index/vector_index.h"

#include <algorithm>
#include <string>
#include <unordered_set>

namespace hartonomous::index {

const char* MetricName(Metric metric) {
  switch (metric) {
    case Metric::kCosine:
      return "cosine";
    case Metric::kL2:
      return "l2";
    case Metric::kInnerProduct:
      return "ip";
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

Result<std::vector<Neighbor>> VectorIndex::FilteredSearch(const float* /*query*/, size_t /*k*/,
                                                          size_t /*ef*/,
                                                          const LabelFilter& /*filter*/) const {
  return Status::FailedPrecondition(std::string("a filtered search of a '") + spec().kind +
                                    "' index (scan the matching labels with ExactAmong)");
}

Result<std::vector<Neighbor>> VectorIndex::RerankAmong(const float* query,
                                                       const std::vector<uint64_t>& labels,
                                                       size_t k, const Cancellation* stop) const {
  return ExactAmong(query, labels, k, stop);
}

Status VectorIndex::AddBatch(const std::vector<uint64_t>& labels, const float* vectors,
                             size_t /*threads*/) {
  std::unordered_set<uint64_t> seen;
  for (uint64_t label : labels) {
    if (!seen.insert(label).second || Contains(label)) {
      return Status::AlreadyExists("label " + std::to_string(label) + " is already indexed");
    }
  }
  const size_t dim = spec().dimension;
  for (size_t i = 0; i < labels.size(); ++i) HT_RETURN_IF_ERROR(Add(labels[i], vectors + i * dim));
  return Status::Ok();
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
