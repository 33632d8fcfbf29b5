#include "index/sq8_index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "index/distance.h"
#include "index/flat_index.h"
#include "index/hnsw_index.h"
#include "index/vector_source.h"

namespace hartonomous::index {
namespace {

constexpr char kMagic[8] = {'H', 'T', 'S', 'Q', '8', 'v', '1', '\0'};
constexpr size_t kTrailerBytes = sizeof(uint64_t) + 2 * sizeof(uint32_t) + sizeof(kMagic);
constexpr uint32_t kModeFlat = 0;
constexpr uint32_t kModeGraph = 1;

HnswElements CodesOf(std::shared_ptr<const ScalarQuantizer> q) {
  HnswElements e;
  e.bytes = q->code_bytes();
  e.distance = q->distance();
  e.bounded = q->bounded_distance();
  e.param = q->param();
  e.encode = [q](const float* prepared, uint8_t* out) { q->Encode(prepared, out); };
  return e;
}

// An open file descriptor, closed with the object.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The first `bytes` bytes of the file at `in`, as an anonymous in-memory
// file: hnswlib's and the flat index's loaders read a whole file by path.
Result<std::unique_ptr<Fd>> PrefixInMemory(int in, uint64_t bytes, const std::string& path) {
  auto out = std::make_unique<Fd>(::memfd_create("sq8-snapshot", MFD_CLOEXEC));
  if (out->get() < 0) return Status::Internal("snapshot: memfd_create failed");
  off_t offset = 0;
  while (static_cast<uint64_t>(offset) < bytes) {
    const ssize_t n = ::sendfile(out->get(), in, &offset, bytes - offset);
    if (n <= 0) return Status::DataLoss("snapshot: " + path + " could not be read");
  }
  return out;
}

}  // namespace

Sq8Index::Sq8Index(IndexSpec spec) : spec_(std::move(spec)) {}
Sq8Index::~Sq8Index() = default;

Result<std::unique_ptr<VectorIndex>> Sq8Index::Create(const IndexSpec& spec) {
  if (spec.source == nullptr) {
    return Status::InvalidArgument("index.kind: hnsw_sq8 needs the stored vectors to rerank from");
  }
  auto index = std::unique_ptr<Sq8Index>(new Sq8Index(spec));
  MutexLock lock(&index->mu_);  // not shared yet; the lock states the contract
  index->current_ = std::make_shared<FlatIndex>(spec);
  return std::unique_ptr<VectorIndex>(std::move(index));
}

Result<std::unique_ptr<VectorIndex>> Sq8Index::Load(const IndexSpec& spec,
                                                    const std::string& path) {
  if (spec.source == nullptr) {
    return Status::InvalidArgument("index.kind: hnsw_sq8 needs the stored vectors to rerank from");
  }
  Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Status::NotFound("snapshot: cannot open " + path);
  struct stat st;
  if (::fstat(in.get(), &st) != 0 || static_cast<uint64_t>(st.st_size) < kTrailerBytes) {
    return Status::DataLoss("snapshot: " + path + " is not an hnsw_sq8 index");
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  char trailer[kTrailerBytes];
  if (::pread(in.get(), trailer, kTrailerBytes, static_cast<off_t>(file_size - kTrailerBytes)) !=
      static_cast<ssize_t>(kTrailerBytes)) {
    return Status::DataLoss("snapshot: " + path + " could not be read");
  }
  uint64_t payload = 0;
  uint32_t qbytes = 0, mode = 0;
  std::memcpy(&payload, trailer, sizeof(payload));
  std::memcpy(&qbytes, trailer + 8, sizeof(qbytes));
  std::memcpy(&mode, trailer + 12, sizeof(mode));
  if (std::memcmp(trailer + 16, kMagic, sizeof(kMagic)) != 0 || mode > kModeGraph ||
      payload > file_size || qbytes > file_size - payload ||
      payload + qbytes + kTrailerBytes != file_size) {
    return Status::DataLoss("snapshot: " + path + " is not an hnsw_sq8 index");
  }
  HT_ASSIGN_OR_RETURN(std::unique_ptr<Fd> copy, PrefixInMemory(in.get(), payload, path));
  const std::string copy_path = "/proc/self/fd/" + std::to_string(copy->get());
  auto index = std::unique_ptr<Sq8Index>(new Sq8Index(spec));
  MutexLock lock(&index->mu_);  // not shared yet
  if (mode == kModeFlat) {
    if (qbytes != 0) return Status::DataLoss("snapshot: " + path + " is not an hnsw_sq8 index");
    HT_ASSIGN_OR_RETURN(std::unique_ptr<VectorIndex> flat, FlatIndex::Load(spec, copy_path));
    index->current_ = std::move(flat);
    return std::unique_ptr<VectorIndex>(std::move(index));
  }
  std::string qdata(qbytes, '\0');
  if (::pread(in.get(), qdata.data(), qbytes, static_cast<off_t>(payload)) !=
      static_cast<ssize_t>(qbytes)) {
    return Status::DataLoss("snapshot: " + path + " could not be read");
  }
  auto parsed = ScalarQuantizer::Parse(qdata, spec.dimension, spec.metric);
  if (!parsed.ok()) return Status::DataLoss("snapshot: " + path + ": " + parsed.status().message());
  std::shared_ptr<const ScalarQuantizer> q = std::move(parsed).value();
  HT_ASSIGN_OR_RETURN(std::unique_ptr<HnswIndex> graph,
                      HnswIndex::LoadEncoded(spec, copy_path, CodesOf(q)));
  index->quantizer_ = std::move(q);
  index->current_ = std::move(graph);
  return std::unique_ptr<VectorIndex>(std::move(index));
}

Sq8Index::State Sq8Index::Current() const {
  MutexLock lock(&mu_);
  return {current_, quantizer_ != nullptr, quantizer_ != nullptr && quantizer_->lossless()};
}

bool Sq8Index::trained() const {
  MutexLock lock(&mu_);
  return quantizer_ != nullptr;
}

bool Sq8Index::lossless() const { return Current().lossless; }

Status Sq8Index::Add(uint64_t label, const float* vector) { return AddBatch({label}, vector, 1); }

Status Sq8Index::AddBatch(const std::vector<uint64_t>& labels, const float* vectors,
                          size_t threads) {
  auto [current, graph, lossless] = Current();
  if (graph || current->size() + labels.size() < kTrainVectors) {
    return current->AddBatch(labels, vectors, threads);
  }
  return Train(labels, vectors, threads);
}

Status Sq8Index::Train(const std::vector<uint64_t>& labels, const float* vectors, size_t threads) {
  // Adds and removes come from one thread at a time: the flat index holds
  // still while the graph is built; searches keep using it meanwhile.
  std::shared_ptr<VectorIndex> current = Current().store;
  std::vector<uint64_t> all;
  std::vector<float> rows;
  static_cast<const FlatIndex&>(*current).Rows(&all, &rows);
  const size_t dim = spec_.dimension;
  all.insert(all.end(), labels.begin(), labels.end());
  rows.reserve(all.size() * dim);
  for (size_t i = 0; i < labels.size(); ++i) {
    std::vector<float> v = Prepared(spec_, vectors + i * dim);
    rows.insert(rows.end(), v.begin(), v.end());
  }
  std::shared_ptr<const ScalarQuantizer> q =
      ScalarQuantizer::Train(rows.data(), all.size(), dim, spec_.metric);
  HT_ASSIGN_OR_RETURN(std::unique_ptr<HnswIndex> graph,
                      HnswIndex::CreateEncoded(spec_, CodesOf(q)));
  HT_RETURN_IF_ERROR(graph->AddBatch(all, rows.data(), threads));
  MutexLock lock(&mu_);
  quantizer_ = std::move(q);
  current_ = std::move(graph);
  return Status::Ok();
}

Status Sq8Index::Remove(uint64_t label) { return Current().store->Remove(label); }
bool Sq8Index::Contains(uint64_t label) const { return Current().store->Contains(label); }
std::vector<uint64_t> Sq8Index::Labels() const { return Current().store->Labels(); }
size_t Sq8Index::size() const { return Current().store->size(); }
size_t Sq8Index::deleted() const { return Current().store->deleted(); }

size_t Sq8Index::memory_bytes() const {
  auto [current, graph, lossless] = Current();
  return current->memory_bytes() + (graph ? spec_.dimension * sizeof(float) : 0);
}

Result<std::vector<Neighbor>> Sq8Index::Rerank(const float* query, std::vector<uint64_t> labels,
                                               size_t k, const Cancellation* stop) const {
  const std::vector<float> q = Prepared(spec_, query);
  const size_t dim = spec_.dimension;
  std::vector<Neighbor> out;
  out.reserve(std::min(labels.size(), std::max(k, kStopCheckBlock)));
  std::vector<float> rows;
  std::vector<bool> found;
  std::vector<uint64_t> block;
  for (size_t at = 0; at < labels.size(); at += kStopCheckBlock) {
    if (stop != nullptr) HT_RETURN_IF_ERROR(stop->Check("exact scan"));
    const size_t end = std::min(labels.size(), at + kStopCheckBlock);
    block.assign(labels.begin() + at, labels.begin() + end);
    rows.resize(block.size() * dim);
    HT_RETURN_IF_ERROR(spec_.source->Read(block, dim, rows.data(), &found));
    for (size_t i = 0; i < block.size(); ++i) {
      if (!found[i]) continue;
      float* v = rows.data() + i * dim;
      if (spec_.metric == Metric::kCosine) Normalize(v, dim);
      out.push_back({block[i], Distance(spec_.metric, q.data(), v, dim)});
    }
    // Keep the list short on long scans.
    if (out.size() > 4 * std::max(k, kStopCheckBlock)) SortAndTruncate(&out, k);
  }
  SortAndTruncate(&out, k);
  return out;
}

namespace {
std::vector<uint64_t> LabelsOf(const std::vector<Neighbor>& neighbors) {
  std::vector<uint64_t> out;
  out.reserve(neighbors.size());
  for (const Neighbor& n : neighbors) out.push_back(n.label);
  return out;
}
}  // namespace

Result<std::vector<Neighbor>> Sq8Index::Search(const float* query, size_t k, size_t ef) const {
  auto [current, graph, lossless] = Current();
  if (!graph || lossless) return current->Search(query, k, ef);
  if (ef == 0) ef = spec_.params.ef_search;
  const size_t candidates = std::max(k, ef);
  HT_ASSIGN_OR_RETURN(auto near,
                      current->Search(query, std::min(kRerankRefine * k, candidates), candidates));
  return Rerank(query, LabelsOf(near), k, nullptr);
}

Result<std::vector<Neighbor>> Sq8Index::FilteredSearch(const float* query, size_t k, size_t ef,
                                                       const LabelFilter& filter) const {
  auto [current, graph, lossless] = Current();
  if (lossless) return current->FilteredSearch(query, k, ef, filter);
  if (!graph) {
    std::vector<uint64_t> matching;
    for (uint64_t label : current->Labels()) {
      if (filter.Matches(label)) matching.push_back(label);
    }
    return current->ExactAmong(query, matching, k);
  }
  if (ef == 0) ef = spec_.params.ef_search;
  const size_t candidates = std::max(k, ef);
  HT_ASSIGN_OR_RETURN(
      auto near,
      current->FilteredSearch(query, std::min(kRerankRefine * k, candidates), candidates, filter));
  return Rerank(query, LabelsOf(near), k, nullptr);
}

Result<std::vector<Neighbor>> Sq8Index::ExactSearch(const float* query, size_t k,
                                                    const Cancellation* stop) const {
  auto [current, graph, lossless] = Current();
  if (!graph || lossless) return current->ExactSearch(query, k, stop);
  return Rerank(query, current->Labels(), k, stop);
}

Result<std::vector<Neighbor>> Sq8Index::ExactAmong(const float* query,
                                                   const std::vector<uint64_t>& labels, size_t k,
                                                   const Cancellation* stop) const {
  auto [current, graph, lossless] = Current();
  if (!graph || lossless) return current->ExactAmong(query, labels, k, stop);
  std::vector<uint64_t> present;
  present.reserve(labels.size());
  for (uint64_t label : labels) {
    if (current->Contains(label)) present.push_back(label);
  }
  return Rerank(query, std::move(present), k, stop);
}

Result<std::vector<Neighbor>> Sq8Index::RerankAmong(const float* query,
                                                    const std::vector<uint64_t>& labels, size_t k,
                                                    const Cancellation* stop) const {
  auto [current, graph, lossless] = Current();
  if (!graph || lossless) return current->ExactAmong(query, labels, k, stop);
  // The graph's ExactAmong scores its elements: the codes.
  HT_ASSIGN_OR_RETURN(auto near, current->ExactAmong(query, labels, kRerankRefine * k, stop));
  return Rerank(query, LabelsOf(near), k, stop);
}

Status Sq8Index::Save(const std::string& path) const {
  std::shared_ptr<VectorIndex> current;
  std::shared_ptr<const ScalarQuantizer> q;
  {
    MutexLock lock(&mu_);
    current = current_;
    q = quantizer_;
  }
  HT_RETURN_IF_ERROR(current->Save(path));
  std::ofstream out(path, std::ios::binary | std::ios::app);
  if (!out) return Status::Internal("snapshot: cannot append to " + path);
  out.seekp(0, std::ios::end);
  const uint64_t payload = static_cast<uint64_t>(out.tellp());
  const std::string qdata = q != nullptr ? q->Serialize() : std::string();
  const uint32_t qbytes = static_cast<uint32_t>(qdata.size());
  const uint32_t mode = q != nullptr ? kModeGraph : kModeFlat;
  out.write(qdata.data(), static_cast<std::streamsize>(qdata.size()));
  out.write(reinterpret_cast<const char*>(&payload), sizeof(payload));
  out.write(reinterpret_cast<const char*>(&qbytes), sizeof(qbytes));
  out.write(reinterpret_cast<const char*>(&mode), sizeof(mode));
  out.write(kMagic, sizeof(kMagic));
  out.flush();
  if (!out) return Status::Internal("snapshot: cannot write " + path);
  return Status::Ok();
}

}  // namespace hartonomous::index
