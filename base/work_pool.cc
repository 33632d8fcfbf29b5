#include "base/work_pool.h"

#include <pthread.h>

#include <utility>

namespace hartonomous {

WorkPool::WorkPool(size_t threads, size_t max_queued, const std::string& name)
    : max_queued_(max_queued) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { Run(); });
    const std::string thread_name = (name + "-" + std::to_string(i)).substr(0, 15);
    pthread_setname_np(threads_.back().native_handle(), thread_name.c_str());
  }
}

WorkPool::~WorkPool() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  ready_.SignalAll();
  for (std::thread& t : threads_) t.join();
}

bool WorkPool::TryPost(std::function<void()> work) {
  {
    MutexLock lock(&mu_);
    if (queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(work));
  }
  ready_.Signal();
  return true;
}

size_t WorkPool::queued() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

size_t WorkPool::running() const {
  MutexLock lock(&mu_);
  return running_;
}

void WorkPool::Run() {
  while (true) {
    std::function<void()> work;
    {
      MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) ready_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping, and nothing left to run
      work = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    work();
    work = nullptr;  // what it captured goes before it counts as done
    MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace hartonomous
