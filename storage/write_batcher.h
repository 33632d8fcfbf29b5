// WriteBatcher: the single LMDB writer, with group commit.
//
// Callers on any thread submit a write function; one writer thread takes the
// queued requests and runs them inside one write transaction, each in a
// nested transaction of its own so that a failing request undoes only its own
// writes, then commits once (one fsync for the whole group) and only then
// wakes every caller. A request is therefore acknowledged only once durable,
// and commits all of its writes or none (see leveldb's BuildBatchGroup).
//
// MDB_MAP_FULL aborts the group, grows the map and runs the group again: a
// write function must be re-runnable (write only through the txn; overwrite,
// don't append to, its outputs).
//
// Thread-safety: Write() is thread-safe; it blocks its caller until the
// group's commit. Do not call Write() from inside a write function.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "storage/lmdb_env.h"
#include "storage/status.h"

namespace hartonomous::storage {

struct WriterOptions {
  // Most requests in one group. Default: 512.
  size_t max_group_requests = 512;
  // A group stops growing once its requests' declared bytes reach this.
  // Default: 64 MiB.
  size_t max_group_bytes = size_t{64} << 20;
};

struct WriterStats {
  uint64_t commits = 0;
  uint64_t requests = 0;
  uint64_t items = 0;
  uint64_t retries = 0;  // groups run again after the map grew
};

class WriteBatcher {
 public:
  using WriteFn = std::function<Status(WriteTxn& txn)>;

  WriteBatcher(Env& env, WriterOptions options = {});
  ~WriteBatcher();  // Stop()
  WriteBatcher(const WriteBatcher&) = delete;
  WriteBatcher& operator=(const WriteBatcher&) = delete;

  // Runs fn in the next group transaction and waits for its commit.
  // bytes: approximate size written (for grouping); items: rows the request
  // counts as (atoms), for statistics. Returns fn's Status when it failed,
  // else the commit's. After Stop(): Unavailable.
  Status Write(WriteFn fn, size_t bytes = 0, uint64_t items = 1);

  // Finishes queued requests, then stops the writer thread. Idempotent.
  void Stop();

  WriterStats stats() const;

 private:
  struct Request {
    WriteFn fn;
    size_t bytes;
    uint64_t items;
    Status status;
    std::promise<void> done;
  };

  void Run();
  void CommitGroup(std::vector<Request*>& group);

  Env& env_;
  const WriterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request*> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;       // GUARDED_BY(mu_)
  std::atomic<uint64_t> commits_{0}, requests_{0}, items_{0}, retries_{0};
  std::thread thread_;
};

}  // namespace hartonomous::storage
