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
// A full disk (ResourceExhausted "...: no space left on device", see
// storage/disk_space.h) aborts the group. LMDB reuses the pages freed by a
// commit only from the second commit after it, so right after a purge has
// freed room inside the file the next write would still find none. On a full
// disk the writer therefore commits one small write of its own (key
// "writer_epoch" of the meta table, when options.meta_table is set) and runs
// the group once more; if the disk is still full, every request of the group
// gets the ResourceExhausted and nothing of the group is stored.
//
// Long maintenance writes (a retention prune) go through WriteBackground():
// such a function does its work in slices and, between two slices, asks
// ForegroundWaiting(); when a Write() is queued it ends its work early and
// returns, and the writer runs the requests queued meanwhile in the same
// group, before the one commit. A write that arrives during a background
// slice therefore waits for one slice, not for the whole batch and a commit
// of its own behind the batch's.
//
// Maintenance that needs the writer alone (Env::Compact) goes through
// RunExclusive(): it runs on the writer thread between two groups, with no
// write transaction open; requests queued meanwhile wait for it and then
// form the next groups as usual, so none is lost or reordered.
//
// WriteAsync() queues a request like Write() without blocking its caller:
// the request's completion is called on the writer thread once its group has
// committed (or failed), so that a server can answer a call from there and
// no thread waits for the commit.
//
// Thread-safety: Write(), WriteAsync() and RunExclusive() are thread-safe;
// Write() and RunExclusive() block their caller until done. Do not call them
// from inside a write function or a completion, nor while holding a read
// transaction that an exclusive function waits for.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "base/mutex.h"
#include "base/status.h"
#include "storage/lmdb_env.h"

namespace hartonomous::storage {

struct WriterOptions {
  // Most requests in one group. Default: 512.
  size_t max_group_requests = 512;
  // A group stops growing once its requests' declared bytes reach this.
  // Default: 64 MiB.
  size_t max_group_bytes = size_t{64} << 20;
  // The schema's "meta" table, where the writer rewrites kWriterEpochKey to
  // make room on a full disk (see above). Default: 0 = never.
  MDB_dbi meta_table = 0;
  // Called on the writer thread after each group commit that succeeded, with
  // the group's request count and the seconds from the group's first write
  // to its commit (metrics). Must not block or write. Default: none.
  std::function<void(size_t requests, double seconds)> on_commit;
};

// The meta key of the writer's own commits: be64, counts up within a run.
inline constexpr char kWriterEpochKey[] = "writer_epoch";

struct WriterStats {
  uint64_t commits = 0;
  uint64_t requests = 0;
  uint64_t items = 0;
  uint64_t retries = 0;  // groups run again after the map grew or after a full disk
  uint64_t joined = 0;   // requests that joined a background request's group late
};

class WriteBatcher {
 public:
  using WriteFn = std::function<Status(WriteTxn& txn)>;
  // Called once with the request's final Status (as Write() returns it).
  using Completion = std::function<void(Status)>;

  WriteBatcher(Env& env, WriterOptions options = {});
  ~WriteBatcher();  // Stop()
  WriteBatcher(const WriteBatcher&) = delete;
  WriteBatcher& operator=(const WriteBatcher&) = delete;

  // Runs fn in the next group transaction and waits for its commit.
  // bytes: approximate size written (for grouping); items: rows the request
  // counts as (atoms), for statistics. Returns fn's Status when it failed,
  // else the commit's. After Stop(): Unavailable.
  Status Write(WriteFn fn, size_t bytes = 0, uint64_t items = 1) EXCLUDES(mu_);

  // Write() without waiting: done(status) runs on the writer thread after
  // the group holding fn committed or failed (must be short and must not
  // block: it delays the next group), or on the caller's thread, before
  // WriteAsync returns, when the writer is stopped (Unavailable). fn and done
  // are destroyed after done returns, on the thread that ran done.
  void WriteAsync(WriteFn fn, Completion done, size_t bytes = 0, uint64_t items = 1) EXCLUDES(mu_);

  // Write() for background work, which yields to foreground writes: fn polls
  // ForegroundWaiting() and returns early when it is true; the requests
  // queued while fn ran then join fn's group (up to the group limits).
  Status WriteBackground(WriteFn fn, size_t bytes = 0, uint64_t items = 1) EXCLUDES(mu_);

  // True while a Write() or RunExclusive() request waits in the queue. Cheap
  // (one atomic load); meant to be polled from a background write function.
  bool ForegroundWaiting() const { return foreground_queued_.load(std::memory_order_relaxed) > 0; }

  // Runs fn on the writer thread after the requests queued before it and
  // before those queued after it, with no write transaction open, and
  // waits for it. Returns fn's Status; after Stop(): Unavailable.
  Status RunExclusive(std::function<Status()> fn) EXCLUDES(mu_);

  // Finishes queued requests, then stops the writer thread. Idempotent.
  void Stop() EXCLUDES(mu_);

  WriterStats stats() const;

 private:
  struct Request {
    WriteFn fn;
    std::function<Status()> exclusive;  // set: a RunExclusive request, alone
    bool background;                    // a WriteBackground request
    size_t bytes;
    uint64_t items;
    Status status;
    std::promise<void>* waiter;  // set: a waiting request (on its caller's stack)
    Completion completion;       // set: a WriteAsync request, owned by the queue
  };

  // Queues request; false (and the request not queued) after Stop().
  bool Enqueue(Request* request) EXCLUDES(mu_);
  // Queues request and waits until the writer has run it.
  Status Submit(Request& request) EXCLUDES(mu_);
  void Run();
  void CommitGroup(std::vector<Request*>& group);
  // Moves the queue's first request into group; bytes: the group's declared
  // bytes so far. REQUIRES: the queue is not empty.
  void MoveFront(std::vector<Request*>& group, size_t& bytes) REQUIRES(mu_);
  // Moves queued write requests into group while it stays within the group
  // limits, stopping before an exclusive request.
  void TakeWithinLimits(std::vector<Request*>& group, size_t& bytes) REQUIRES(mu_);
  // TakeWithinLimits for requests joining a background request's group.
  void TakeQueued(std::vector<Request*>& group, size_t& bytes) EXCLUDES(mu_);
  // Commits kWriterEpochKey in its own transaction (writer thread only).
  Status CommitEpoch();

  Env& env_;
  const WriterOptions options_;
  Mutex mu_;
  CondVar cv_;
  std::deque<Request*> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> commits_{0}, requests_{0}, items_{0}, retries_{0}, joined_{0};
  std::atomic<size_t> foreground_queued_{0};  // queued requests that are not background
  uint64_t epoch_ = 0;                        // writer thread only
  std::thread thread_;
};

}  // namespace hartonomous::storage
