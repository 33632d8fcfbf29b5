// CallThreads: a thread of its own for each long call (compaction, backup,
// index rebuilds, quantization), at most max_threads of them at once. Such
// work runs for seconds to minutes: on the work pool (base/work_pool.h) it
// would hold back the short items queued behind it, and on gRPC's callback
// threads it would stall the network. A thread is started per call and
// ends with it; past max_threads, TryStart refuses and the caller answers
// the refusal (RESOURCE_EXHAUSTED).
//
//   CallThreads threads(256, "long");
//   if (!threads.TryStart([call] { call->Run(); })) Refuse(...);
//
// The destructor waits for every started body to return, then joins.
//
// Thread-safety: TryStart and the accessors from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"

namespace hartonomous {

class CallThreads {
 public:
  // REQUIRES: max_threads >= 1. name (at most 15 bytes are kept) names the
  // threads, as top -H shows them.
  CallThreads(size_t max_threads, std::string name);
  ~CallThreads();
  CallThreads(const CallThreads&) = delete;
  CallThreads& operator=(const CallThreads&) = delete;

  // Runs body on a new thread; false (body not taken) when max_threads
  // bodies are running.
  bool TryStart(std::function<void()> body) EXCLUDES(mu_);

  size_t max_threads() const { return max_threads_; }
  // Bodies running now.
  size_t running() const EXCLUDES(mu_);

 private:
  // Joins the threads whose bodies have returned.
  void ReapLocked() REQUIRES(mu_);

  const size_t max_threads_;
  const std::string name_;
  mutable Mutex mu_;
  CondVar idle_;
  uint64_t next_id_ GUARDED_BY(mu_) = 0;
  std::unordered_map<uint64_t, std::thread> threads_ GUARDED_BY(mu_);
  std::vector<uint64_t> done_ GUARDED_BY(mu_);  // returned, not joined yet
  size_t running_ GUARDED_BY(mu_) = 0;
};

}  // namespace hartonomous
