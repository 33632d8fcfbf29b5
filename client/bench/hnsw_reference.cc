#include "hnsw_reference.h"

#include <hnswlib/hnswlib.h>

namespace hartonomous::bench {

HnswL2::HnswL2(size_t dim) : dim_(dim) {
  hnswlib::L2Space space(dim);
  fn_ = space.get_dist_func();
}

namespace {

class Reference final : public HnswReference {
 public:
  Reference(const cli::VectorFile& train, size_t m, size_t ef_construction)
      : space_(train.dimension), index_(&space_, train.rows, m, ef_construction) {
    for (size_t i = 0; i < train.rows; ++i) index_.addPoint(&train.values[i * train.dimension], i);
  }

  void SetEf(size_t ef) override { index_.setEf(ef); }

  std::vector<uint64_t> Nearest(const float* query, size_t k) const override {
    auto pq = index_.searchKnn(query, k);
    std::vector<uint64_t> rows(pq.size());
    for (size_t i = pq.size(); i-- > 0; pq.pop()) rows[i] = pq.top().second;
    return rows;
  }

  double IndexBytes() const override {
    const size_t n = index_.cur_element_count;
    double bytes = double(n) * double(index_.size_data_per_element_);
    for (size_t i = 0; i < n; ++i)
      bytes += double(index_.element_levels_[i]) * double(index_.size_links_per_element_);
    return bytes;
  }

 private:
  hnswlib::L2Space space_;
  hnswlib::HierarchicalNSW<float> index_;
};

}  // namespace

std::unique_ptr<HnswReference> HnswReference::Build(const cli::VectorFile& train, size_t m,
                                                    size_t ef_construction) {
  return std::make_unique<Reference>(train, m, ef_construction);
}

}  // namespace hartonomous::bench
