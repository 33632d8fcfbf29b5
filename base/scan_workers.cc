#include "base/scan_workers.h"

#include <pthread.h>

#include <algorithm>
#include <string>

namespace hartonomous {
namespace {

size_t DefaultHelpers() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores > 1 ? cores - 1 : 0;
}

std::atomic<size_t>& SharedHelpers() {
  static std::atomic<size_t> helpers{DefaultHelpers()};
  return helpers;
}

// Whether the running thread works for a query already counted.
thread_local bool inside_query = false;

}  // namespace

ScanWorkers::Query::Query(ScanWorkers& workers) {
  if (inside_query) return;
  inside_query = true;
  counted_ = &workers;
  counted_->queries_.fetch_add(1, std::memory_order_relaxed);
}

ScanWorkers::Query::~Query() {
  if (counted_ == nullptr) return;
  counted_->queries_.fetch_sub(1, std::memory_order_relaxed);
  inside_query = false;
}

ScanWorkers::PartOfQuery::PartOfQuery() : was_inside_(inside_query) { inside_query = true; }

ScanWorkers::PartOfQuery::~PartOfQuery() { inside_query = was_inside_; }

ScanWorkers::ScanWorkers(size_t helpers) {
  helpers_.reserve(helpers);
  for (size_t i = 0; i < helpers; ++i) {
    helpers_.emplace_back([this, i] { Help(i + 1); });
    const std::string name = "ht-scan-" + std::to_string(i);
    pthread_setname_np(helpers_.back().native_handle(), name.substr(0, 15).c_str());
  }
}

ScanWorkers::~ScanWorkers() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  work_.SignalAll();
  for (std::thread& t : helpers_) t.join();
}

ScanWorkers& ScanWorkers::Shared() {
  // Never destroyed: a query still running while the process exits must
  // not find its helpers joined.
  static ScanWorkers* const shared = new ScanWorkers(SharedHelpers().load());
  return *shared;
}

void ScanWorkers::SetSharedHelpers(size_t helpers) { SharedHelpers().store(helpers); }

void ScanWorkers::Drain(Job* job, size_t slot) {
  while (true) {
    if (slot > 0 && queries_.load(std::memory_order_relaxed) > helpers_.size()) return;
    const size_t chunk = job->next.fetch_add(1, std::memory_order_relaxed);
    if (chunk >= job->chunks) return;
    (*job->body)(chunk, slot);
  }
}

void ScanWorkers::Run(size_t chunks, const std::function<void(size_t, size_t)>& body) {
  if (chunks == 0) return;
  struct Scanning {
    std::atomic<size_t>* count;
    ~Scanning() { count->fetch_sub(1, std::memory_order_relaxed); }
  } scanning{&scanning_};
  const size_t others = scanning_.fetch_add(1, std::memory_order_relaxed);
  if (helpers_.empty() || chunks == 1 || others >= helpers_.size() ||
      queries_.load(std::memory_order_relaxed) > helpers_.size()) {
    for (size_t chunk = 0; chunk < chunks; ++chunk) body(chunk, 0);
    return;
  }
  Job job;
  job.chunks = chunks;
  job.body = &body;
  {
    MutexLock lock(&mu_);
    jobs_.push_back(&job);
  }
  // Wake as many helpers as there are chunks beyond the caller's first.
  if (chunks - 1 >= helpers_.size()) {
    work_.SignalAll();
  } else {
    for (size_t i = 0; i + 1 < chunks; ++i) work_.Signal();
  }
  Drain(&job, 0);
  MutexLock lock(&mu_);
  // Every chunk is claimed: no helper may enter the job from now on, and
  // the ones inside are finishing the chunks they claimed.
  auto it = std::find(jobs_.begin(), jobs_.end(), &job);
  if (it != jobs_.end()) jobs_.erase(it);
  while (job.users > 0) idle_.Wait(&mu_);
}

void ScanWorkers::Help(size_t slot) {
  mu_.Lock();
  while (true) {
    while (jobs_.empty() && !stopping_) work_.Wait(&mu_);
    if (stopping_) break;  // callers run the chunks of queued jobs themselves
    Job* job = jobs_.front();
    ++job->users;
    mu_.Unlock();
    Drain(job, slot);
    mu_.Lock();
    // Exhausted, or left for its caller to finish: taken out of the queue
    // so that no helper enters it again.
    auto it = std::find(jobs_.begin(), jobs_.end(), job);
    if (it != jobs_.end()) jobs_.erase(it);
    if (--job->users == 0) idle_.SignalAll();
  }
  mu_.Unlock();
}

}  // namespace hartonomous
