// The only translation unit that includes hnswlib: its headers define
// non-inline functions.
#include "index/hnsw_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <vector>

#include "index/distance.h"
#include "index/filtered_search.h"
#include "index/parallel_scan.h"

namespace hartonomous::index {

struct HnswIndex::Impl {
  size_t dim = 0;        // the float elements' distance parameter
  bool encoded = false;  // elements are codes (HnswElements::encode)
  HnswElements elements;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
};

namespace {

constexpr size_t kInitialCapacity = 1024;

// hnswlib's graph over our distance kernels (chosen for the CPU at start)
// instead of its own, which are fixed when it is compiled, or over codes.
class ElementSpace final : public hnswlib::SpaceInterface<float> {
 public:
  explicit ElementSpace(const HnswElements& e)
      : bytes_(e.bytes), fn_(e.distance), param_(const_cast<void*>(e.param)) {}
  size_t get_data_size() override { return bytes_; }
  hnswlib::DISTFUNC<float> get_dist_func() override { return fn_; }
  void* get_dist_func_param() override { return param_; }

 private:
  size_t bytes_;
  hnswlib::DISTFUNC<float> fn_;
  void* param_;
};

// The impl's elements: the given codes, or the prepared floats.
std::unique_ptr<HnswIndex::Impl> MakeImpl(const IndexSpec& spec, HnswElements elements) {
  auto impl = std::make_unique<HnswIndex::Impl>();
  impl->dim = spec.dimension;
  impl->encoded = static_cast<bool>(elements.encode);
  if (!impl->encoded) {
    elements.bytes = spec.dimension * sizeof(float);
    elements.distance = MetricKernel(spec.metric);
    elements.bounded = BoundedMetricKernel(spec.metric);
    elements.param = &impl->dim;
  }
  impl->elements = std::move(elements);
  impl->space = std::make_unique<ElementSpace>(impl->elements);
  return impl;
}

Status Failed(const char* what, const std::exception& e) {
  return Status::Internal(std::string("hnsw ") + what + ": " + e.what());
}

}  // namespace

HnswIndex::HnswIndex(IndexSpec spec, std::unique_ptr<Impl> impl)
    : spec_(std::move(spec)), impl_(std::move(impl)) {}

HnswIndex::~HnswIndex() = default;

void HnswIndex::Encode(const float* vector, std::vector<uint8_t>* element) const {
  element->resize(impl_->elements.bytes);
  if (!impl_->encoded) {
    std::memcpy(element->data(), vector, element->size());
    if (spec_.metric == Metric::kCosine) {
      Normalize(reinterpret_cast<float*>(element->data()), spec_.dimension);
    }
    return;
  }
  std::vector<float> v = Prepared(spec_, vector);
  impl_->elements.encode(v.data(), element->data());
}

Result<std::unique_ptr<VectorIndex>> HnswIndex::Create(const IndexSpec& spec) {
  HT_ASSIGN_OR_RETURN(auto index, Make(spec, HnswElements{}));
  return std::unique_ptr<VectorIndex>(std::move(index));
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::CreateEncoded(const IndexSpec& spec,
                                                            HnswElements elements) {
  return Make(spec, std::move(elements));
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::Make(const IndexSpec& spec, HnswElements elements) {
  auto impl = MakeImpl(spec, std::move(elements));
  try {
    impl->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        impl->space.get(), kInitialCapacity, spec.params.m, spec.params.ef_construction);
    impl->graph->setEf(1);  // every search passes its own ef as k'
  } catch (const std::exception& e) {
    return Failed("create", e);
  }
  return std::unique_ptr<HnswIndex>(new HnswIndex(spec, std::move(impl)));
}

Result<std::unique_ptr<VectorIndex>> HnswIndex::Load(const IndexSpec& spec,
                                                     const std::string& path) {
  HT_ASSIGN_OR_RETURN(auto index, Read(spec, path, HnswElements{}));
  return std::unique_ptr<VectorIndex>(std::move(index));
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::LoadEncoded(const IndexSpec& spec,
                                                          const std::string& path,
                                                          HnswElements elements) {
  return Read(spec, path, std::move(elements));
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::Read(const IndexSpec& spec, const std::string& path,
                                                   HnswElements elements) {
  auto impl = MakeImpl(spec, std::move(elements));
  size_t live = 0, deleted = 0;
  LabelSlots slots;
  try {
    // The loading constructor leaves members that loadIndex sets unset; a
    // load that throws half-way must still be destructible.
    impl->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(impl->space.get());
    auto& g = *impl->graph;
    g.data_level0_memory_ = nullptr;
    g.linkLists_ = nullptr;
    g.visited_list_pool_ = nullptr;
    g.cur_element_count = 0;
    g.num_deleted_ = 0;
    try {
      g.loadIndex(path, impl->space.get());
    } catch (...) {
      g.cur_element_count = 0;  // the destructor walks linkLists_ up to it
      throw;
    }
    if (g.label_offset_ - g.offsetData_ != impl->elements.bytes) {
      return Status::DataLoss("snapshot: " + path + " holds vectors of another dimension");
    }
    g.setEf(1);
    for (const auto& [label, id] : g.label_lookup_) slots.Insert(label, id);
    for (size_t i = 0; i < g.cur_element_count; ++i) {
      if (g.isMarkedDeleted(static_cast<hnswlib::tableint>(i))) {
        ++deleted;
      } else {
        ++live;
      }
    }
  } catch (const std::exception& e) {
    return Status::DataLoss("snapshot: " + path + ": " + e.what());
  }
  auto index = std::unique_ptr<HnswIndex>(new HnswIndex(spec, std::move(impl)));
  index->live_ = live;
  index->deleted_ = deleted;
  {
    WriterLock lock(&index->change_mu_);  // not shared yet; the lock states the contract
    index->slots_ = std::move(slots);
  }
  return index;
}

Status HnswIndex::Add(uint64_t label, const float* vector) {
  std::vector<uint8_t> v;
  Encode(vector, &v);
  WriterLock change(&change_mu_);
  auto& g = *impl_->graph;
  try {
    {
      WriterLock lock(&mu_);
      if (g.label_lookup_.count(label) != 0) {
        return Status::AlreadyExists("label " + std::to_string(label) + " is already indexed");
      }
      if (g.cur_element_count >= g.max_elements_)
        g.resizeIndex(std::max<size_t>(2 * g.max_elements_, kInitialCapacity));
    }
    // Shared: searches keep running while the point is linked in. hnswlib
    // copies the vector before any link to it exists.
    ReaderLock lock(&mu_);
    g.addPoint(v.data(), label);
    slots_.Insert(label, g.label_lookup_.at(label));
  } catch (const std::exception& e) {
    return Failed("add", e);
  }
  ++live_;
  return Status::Ok();
}

Status HnswIndex::AddBatch(const std::vector<uint64_t>& labels, const float* vectors,
                           size_t threads) {
  const size_t n = labels.size();
  if (n == 0) return Status::Ok();
  WriterLock change(&change_mu_);
  auto& g = *impl_->graph;
  try {
    WriterLock lock(&mu_);
    std::unordered_set<uint64_t> seen;
    for (uint64_t label : labels) {
      if (!seen.insert(label).second || g.label_lookup_.count(label) != 0) {
        return Status::AlreadyExists("label " + std::to_string(label) + " is already indexed");
      }
    }
    if (g.cur_element_count + n > g.max_elements_) {
      g.resizeIndex(std::max({2 * g.max_elements_, g.cur_element_count + n, kInitialCapacity}));
    }
  } catch (const std::exception& e) {
    return Failed("add", e);
  }
  // Shared: searches keep running while the points are linked in.
  ReaderLock lock(&mu_);
  std::atomic<size_t> next{0};
  std::atomic<size_t> added{0};
  std::mutex error_mu;
  Status error;
  auto work = [&] {
    std::vector<uint8_t> v;
    for (size_t i = next++; i < n; i = next++) {
      Encode(vectors + i * spec_.dimension, &v);
      try {
        g.addPoint(v.data(), labels[i]);
        ++added;
      } catch (const std::exception& e) {
        std::lock_guard guard(error_mu);
        if (error.ok()) error = Failed("add", e);
        next = n;  // stop the other workers
      }
    }
  };
  const size_t workers = std::clamp<size_t>(threads, 1, std::max<size_t>(1, n / 64));
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  // slots_ follows label_lookup_ for the points that made it in, even after
  // a failure, so that the two maps agree.
  for (uint64_t label : labels) {
    auto it = g.label_lookup_.find(label);
    if (it != g.label_lookup_.end()) slots_.Insert(label, it->second);
  }
  live_ += added.load();
  return error;
}

Status HnswIndex::Remove(uint64_t label) {
  WriterLock change(&change_mu_);
  WriterLock lock(&mu_);
  auto& g = *impl_->graph;
  auto it = g.label_lookup_.find(label);
  if (it == g.label_lookup_.end() || g.isMarkedDeleted(it->second)) {
    return Status::NotFound("label " + std::to_string(label) + " is not indexed");
  }
  try {
    g.markDelete(label);
  } catch (const std::exception& e) {
    return Failed("delete", e);
  }
  --live_;
  ++deleted_;
  return Status::Ok();
}

bool HnswIndex::Contains(uint64_t label) const {
  ReaderLock change(&change_mu_);  // no addPoint writes label_lookup_
  ReaderLock lock(&mu_);
  auto& g = *impl_->graph;
  auto it = g.label_lookup_.find(label);
  return it != g.label_lookup_.end() && !g.isMarkedDeleted(it->second);
}

std::vector<uint64_t> HnswIndex::Labels() const {
  ReaderLock change(&change_mu_);
  ReaderLock lock(&mu_);
  auto& g = *impl_->graph;
  std::vector<uint64_t> out;
  out.reserve(g.label_lookup_.size());
  for (const auto& [label, id] : g.label_lookup_) {
    if (!g.isMarkedDeleted(id)) out.push_back(label);
  }
  return out;
}

Result<std::vector<Neighbor>> HnswIndex::Search(const float* query, size_t k, size_t ef) const {
  std::vector<uint8_t> q;
  Encode(query, &q);
  if (ef == 0) ef = spec_.params.ef_search;
  std::vector<Neighbor> out;
  if (k == 0 || live_.load() == 0) return out;
  try {
    ReaderLock lock(&mu_);
    auto queue = impl_->graph->searchKnn(q.data(), std::max(k, ef));
    out.reserve(queue.size());
    while (!queue.empty()) {
      out.push_back({queue.top().second, queue.top().first});
      queue.pop();
    }
  } catch (const std::exception& e) {
    return Failed("search", e);
  }
  SortAndTruncate(&out, k);
  return out;
}

Result<std::vector<Neighbor>> HnswIndex::FilteredSearch(const float* query, size_t k, size_t ef,
                                                        const LabelFilter& filter) const {
  std::vector<uint8_t> q;
  Encode(query, &q);
  if (ef == 0) ef = spec_.params.ef_search;
  std::vector<Neighbor> out;
  if (k == 0 || live_.load() == 0) return out;
  // Shared, as Search: no resize moves the blocks; inserts run alongside.
  ReaderLock lock(&mu_);
  auto& g = *impl_->graph;
  HnswGraphView view;
  view.level0 = g.data_level0_memory_;
  view.element_bytes = g.size_data_per_element_;
  view.links0_offset = g.offsetLevel0_;
  view.data_offset = g.offsetData_;
  view.label_offset = g.label_offset_;
  view.upper = g.linkLists_;
  view.upper_bytes = g.size_links_per_element_;
  view.capacity = g.max_elements_;
  // The entry's own level rather than maxlevel_: an insert that raises the
  // top level writes the two fields one after the other.
  const hnswlib::tableint entry = g.enterpoint_node_;
  if (entry >= g.max_elements_) return out;  // no element linked yet
  view.entry = entry;
  view.max_level = g.element_levels_[entry];
  view.distance = impl_->elements.distance;
  view.bounded = impl_->elements.bounded;
  view.param = impl_->elements.param;
  out = FilteredGraphSearch(view, q.data(), std::max(k, ef), g.maxM0_, filter);
  SortAndTruncate(&out, k);
  return out;
}

Result<std::vector<Neighbor>> HnswIndex::ExactSearch(const float* query, size_t k,
                                                     const Cancellation* stop) const {
  std::vector<uint8_t> q;
  Encode(query, &q);
  // Changes wait (element count and labels must hold still); searches do not.
  ReaderLock change(&change_mu_);
  ReaderLock lock(&mu_);
  const auto& g = *impl_->graph;
  const MetricFunction distance = impl_->elements.distance;
  const void* param = impl_->elements.param;
  const BestK best_k(k);
  return ScanInChunks(g.cur_element_count, g.size_data_per_element_, k, stop,
                      [&](size_t begin, size_t end, std::vector<Neighbor>* out) {
                        for (size_t i = begin; i < end; ++i) {
                          const auto id = static_cast<hnswlib::tableint>(i);
                          if (g.isMarkedDeleted(id)) continue;
                          best_k.Offer(out, {g.getExternalLabel(id),
                                             distance(q.data(), g.getDataByInternalId(id), param)});
                        }
                      });
}

Result<std::vector<Neighbor>> HnswIndex::ExactAmong(const float* query,
                                                    const std::vector<uint64_t>& labels, size_t k,
                                                    const Cancellation* stop) const {
  std::vector<uint8_t> element;
  Encode(query, &element);
  // slots_ and label_lookup_ are written only by Add, which holds
  // change_mu_ exclusively.
  ReaderLock change(&change_mu_);
  ReaderLock lock(&mu_);
  const auto& g = *impl_->graph;
  // L2: each thread keeps the best k it has seen and abandons a
  // candidate's distance once it exceeds the k-th. The answer is the same
  // as scoring every candidate in full.
  const BoundedMetricFunction element_bounded = impl_->elements.bounded;
  const bool bounded = spec_.metric == Metric::kL2 && k > 0 && element_bounded != nullptr;
  const MetricFunction distance = impl_->elements.distance;
  const void* param = impl_->elements.param;
  const BestK best_k(k);
  // The chunks run while this thread holds the locks (ScanInChunks
  // returns after the last).
  auto score = [&](size_t begin, size_t end,
                   std::vector<Neighbor>* out) REQUIRES_SHARED(change_mu_) {
    // Resolve the range's labels first (one cache miss each, prefetched
    // ahead), then score with the next vectors prefetched: the candidates
    // are scattered over the whole index.
    constexpr size_t kAhead = 8;
    // Scoring: the candidate kPrefetchAhead ahead is prefetched, its first
    // kPrefetchLines cache lines (measured on Fashion-MNIST, docs/
    // benchmarks.md: 4 ahead beat 2 and 8; 6 lines cover a code's first
    // abandon block and part of its second).
    constexpr size_t kPrefetchAhead = 4, kPrefetchLines = 6;
    std::vector<std::pair<uint64_t, hnswlib::tableint>> ids;
    ids.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) {
      if (i + kAhead < end) slots_.Prefetch(labels[i + kAhead]);
      auto slot = slots_.Find(labels[i]);
      if (slot) ids.emplace_back(labels[i], *slot);
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i + kPrefetchAhead < ids.size()) {
        // The candidate scored kPrefetchAhead from now: its link list's
        // header (the deleted flag is read there first) and the head of its
        // element; the hardware prefetcher follows the rest of the element.
        const hnswlib::tableint ahead = ids[i + kPrefetchAhead].second;
        __builtin_prefetch(g.get_linklist0(ahead));
        const char* next = g.getDataByInternalId(ahead);
        for (size_t line = 0; line < kPrefetchLines; ++line) __builtin_prefetch(next + 64 * line);
      }
      if (g.isMarkedDeleted(ids[i].second)) continue;
      const char* v = g.getDataByInternalId(ids[i].second);
      if (!bounded) {
        out->push_back({ids[i].first, distance(element.data(), v, param)});
        continue;
      }
      best_k.Offer(out,
                   {ids[i].first, element_bounded(element.data(), v, param, best_k.bound(*out))});
    }
  };
  return ScanInChunks(labels.size(), g.size_data_per_element_, k, stop, score);
}

size_t HnswIndex::memory_bytes() const {
  ReaderLock change(&change_mu_);  // element_levels_ is written by addPoint
  ReaderLock lock(&mu_);
  auto& g = *impl_->graph;
  size_t upper = 0;
  for (size_t i = 0; i < g.cur_element_count; ++i) {
    upper += static_cast<size_t>(g.element_levels_[i]) * g.size_links_per_element_;
  }
  return g.max_elements_ * (g.size_data_per_element_ + sizeof(void*) + sizeof(int)) + upper +
         g.label_lookup_.size() * (sizeof(uint64_t) + sizeof(unsigned) + 2 * sizeof(void*));
}

Status HnswIndex::Save(const std::string& path) const {
  // saveIndex must not race a change; searches may continue.
  ReaderLock change(&change_mu_);
  ReaderLock lock(&mu_);
  try {
    impl_->graph->saveIndex(path);
  } catch (const std::exception& e) {
    return Failed("save", e);
  }
  return Status::Ok();
}

}  // namespace hartonomous::index
