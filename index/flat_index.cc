#include "index/flat_index.h"

#include <cstring>
#include <fstream>
#include <mutex>

#include "index/distance.h"
#include "index/parallel_scan.h"

namespace hartonomous::index {
namespace {

constexpr char kMagic[8] = {'H', 'T', 'F', 'L', 'A', 'T', '0', '1'};

}  // namespace

FlatIndex::FlatIndex(IndexSpec spec) : spec_(std::move(spec)) {}

Status FlatIndex::Add(uint64_t label, const float* vector) {
  std::vector<float> v = Prepared(spec_, vector);
  WriterLock lock(&mu_);
  if (slots_.count(label) != 0) {
    return Status::AlreadyExists("label " + std::to_string(label) + " is already indexed");
  }
  slots_.emplace(label, labels_.size());
  labels_.push_back(label);
  data_.insert(data_.end(), v.begin(), v.end());
  return Status::Ok();
}

Status FlatIndex::Remove(uint64_t label) {
  WriterLock lock(&mu_);
  auto it = slots_.find(label);
  if (it == slots_.end())
    return Status::NotFound("label " + std::to_string(label) + " is not indexed");
  const size_t slot = it->second;
  const size_t last = labels_.size() - 1;
  const size_t dim = spec_.dimension;
  if (slot != last) {
    std::memcpy(&data_[slot * dim], &data_[last * dim], dim * sizeof(float));
    labels_[slot] = labels_[last];
    slots_[labels_[slot]] = slot;
  }
  labels_.pop_back();
  data_.resize(labels_.size() * dim);
  slots_.erase(label);
  return Status::Ok();
}

void FlatIndex::Rows(std::vector<uint64_t>* labels, std::vector<float>* vectors) const {
  ReaderLock lock(&mu_);
  *labels = labels_;
  *vectors = data_;
}

bool FlatIndex::Contains(uint64_t label) const {
  ReaderLock lock(&mu_);
  return slots_.count(label) != 0;
}

std::vector<uint64_t> FlatIndex::Labels() const {
  ReaderLock lock(&mu_);
  return labels_;
}

size_t FlatIndex::size() const {
  ReaderLock lock(&mu_);
  return labels_.size();
}

size_t FlatIndex::memory_bytes() const {
  ReaderLock lock(&mu_);
  return data_.capacity() * sizeof(float) + labels_.capacity() * sizeof(uint64_t) +
         slots_.size() * (sizeof(uint64_t) + sizeof(size_t) + 2 * sizeof(void*));
}

Result<std::vector<Neighbor>> FlatIndex::Search(const float* query, size_t k, size_t) const {
  return ExactSearch(query, k, nullptr);
}

Result<std::vector<Neighbor>> FlatIndex::ExactSearch(const float* query, size_t k,
                                                     const Cancellation* stop) const {
  std::vector<float> q = Prepared(spec_, query);
  const size_t dim = spec_.dimension;
  const MetricFunction distance = MetricKernel(spec_.metric);
  ReaderLock lock(&mu_);
  const BestK best_k(k);
  // The chunks run while this thread holds mu_ (ScanInChunks returns
  // after the last).
  auto score = [&](size_t begin, size_t end, std::vector<Neighbor>* best) REQUIRES_SHARED(mu_) {
    for (size_t slot = begin; slot < end; ++slot) {
      best_k.Offer(best, {labels_[slot], distance(q.data(), &data_[slot * dim], &dim)});
    }
  };
  return ScanInChunks(labels_.size(), dim * sizeof(float), k, stop, score);
}

Result<std::vector<Neighbor>> FlatIndex::ExactAmong(const float* query,
                                                    const std::vector<uint64_t>& labels, size_t k,
                                                    const Cancellation* stop) const {
  std::vector<float> q = Prepared(spec_, query);
  const size_t dim = spec_.dimension;
  const MetricFunction distance = MetricKernel(spec_.metric);
  ReaderLock lock(&mu_);
  const BestK best_k(k);
  auto score = [&](size_t begin, size_t end, std::vector<Neighbor>* best) REQUIRES_SHARED(mu_) {
    for (size_t i = begin; i < end; ++i) {
      auto it = slots_.find(labels[i]);
      if (it == slots_.end()) continue;
      best_k.Offer(best, {labels[i], distance(q.data(), &data_[it->second * dim], &dim)});
    }
  };
  return ScanInChunks(labels.size(), dim * sizeof(float), k, stop, score);
}

Status FlatIndex::Save(const std::string& path) const {
  ReaderLock lock(&mu_);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::Internal("snapshot: cannot open " + path + " for writing");
  const uint64_t count = labels_.size();
  const uint64_t dim = spec_.dimension;
  out.write(kMagic, sizeof(kMagic));
  out.write(reinterpret_cast<const char*>(&dim), sizeof(dim));
  out.write(reinterpret_cast<const char*>(&count), sizeof(count));
  out.write(reinterpret_cast<const char*>(labels_.data()),
            static_cast<std::streamsize>(count * sizeof(uint64_t)));
  out.write(reinterpret_cast<const char*>(data_.data()),
            static_cast<std::streamsize>(data_.size() * sizeof(float)));
  out.flush();
  if (!out) return Status::Internal("snapshot: write to " + path + " failed");
  return Status::Ok();
}

Result<std::unique_ptr<VectorIndex>> FlatIndex::Load(const IndexSpec& spec,
                                                     const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("snapshot: cannot open " + path);
  char magic[8];
  uint64_t dim = 0, count = 0;
  in.read(magic, sizeof(magic));
  in.read(reinterpret_cast<char*>(&dim), sizeof(dim));
  in.read(reinterpret_cast<char*>(&count), sizeof(count));
  if (!in || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0 || dim != spec.dimension) {
    return Status::DataLoss("snapshot: " + path + " is not a flat index of dimension " +
                            std::to_string(spec.dimension));
  }
  in.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  const uint64_t header = sizeof(kMagic) + 2 * sizeof(uint64_t);
  if (file_size != header + count * (sizeof(uint64_t) + dim * sizeof(float))) {
    return Status::DataLoss("snapshot: " + path + " is truncated");
  }
  in.seekg(static_cast<std::streamoff>(header));
  auto index = std::make_unique<FlatIndex>(spec);
  WriterLock lock(&index->mu_);  // not shared yet; the lock states the contract
  index->labels_.resize(count);
  index->data_.resize(count * dim);
  in.read(reinterpret_cast<char*>(index->labels_.data()),
          static_cast<std::streamsize>(count * sizeof(uint64_t)));
  in.read(reinterpret_cast<char*>(index->data_.data()),
          static_cast<std::streamsize>(count * dim * sizeof(float)));
  if (!in) return Status::DataLoss("snapshot: " + path + " could not be read");
  for (size_t slot = 0; slot < count; ++slot) index->slots_.emplace(index->labels_[slot], slot);
  if (index->slots_.size() != count)
    return Status::DataLoss("snapshot: " + path + " repeats a label");
  lock.Release();
  return std::unique_ptr<VectorIndex>(std::move(index));
}

}  // namespace hartonomous::index
