#include "base/call_threads.h"

#include <pthread.h>

#include <utility>

namespace hartonomous {

CallThreads::CallThreads(size_t max_threads, std::string name)
    : max_threads_(max_threads), name_(std::move(name)) {}

CallThreads::~CallThreads() {
  MutexLock lock(&mu_);
  while (running_ > 0) idle_.Wait(&mu_);
  ReapLocked();
}

bool CallThreads::TryStart(std::function<void()> body) {
  MutexLock lock(&mu_);
  ReapLocked();
  if (running_ >= max_threads_) return false;
  const uint64_t id = next_id_++;
  ++running_;
  std::thread thread([this, id, body = std::move(body)]() mutable {
    body();
    body = nullptr;  // what it captured goes before it counts as done
    MutexLock done(&mu_);
    done_.push_back(id);
    if (--running_ == 0) idle_.SignalAll();
  });
  const std::string thread_name = (name_ + "-" + std::to_string(id)).substr(0, 15);
  pthread_setname_np(thread.native_handle(), thread_name.c_str());
  threads_.emplace(id, std::move(thread));
  return true;
}

size_t CallThreads::running() const {
  MutexLock lock(&mu_);
  return running_;
}

void CallThreads::ReapLocked() {
  // TryStart files a thread before its body can take mu_ to report done.
  for (uint64_t id : done_) {
    auto it = threads_.find(id);
    it->second.join();
    threads_.erase(it);
  }
  done_.clear();
}

}  // namespace hartonomous
