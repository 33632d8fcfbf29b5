// WorkPool: a fixed set of threads that run posted work in FIFO order, for
// work that must not run on the thread that received it (gRPC's callback
// threads also drive the network: hashing, compressing, decoding, index
// inserts and waits on storage go here instead).
//
// The queue is bounded: TryPost refuses work beyond max_queued (queued, not
// yet started) and the caller answers the refusal (RESOURCE_EXHAUSTED).
// Work posted before the destructor runs is run by it: the destructor
// drains the queue, then joins the threads.
//
//   WorkPool pool(4, 1024, "work");
//   if (!pool.TryPost([call] { call->End(); })) Refuse(...);
//
// Thread-safety: TryPost and the accessors from any thread; work runs on the
// pool's threads, one item per thread at a time, in the order posted
// (items start in order; with more than one thread they overlap).
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"

namespace hartonomous {

class WorkPool {
 public:
  // REQUIRES: threads >= 1, max_queued >= 1. name (at most 15 bytes are
  // kept) names the threads, as top -H shows them.
  WorkPool(size_t threads, size_t max_queued, const std::string& name);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues work; false (work not taken) when max_queued items are waiting.
  bool TryPost(std::function<void()> work) EXCLUDES(mu_);

  size_t threads() const { return threads_.size(); }
  size_t max_queued() const { return max_queued_; }
  // Items waiting (not started), and running now.
  size_t queued() const EXCLUDES(mu_);
  size_t running() const EXCLUDES(mu_);

 private:
  void Run() EXCLUDES(mu_);

  const size_t max_queued_;
  mutable Mutex mu_;
  CondVar ready_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  size_t running_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace hartonomous
