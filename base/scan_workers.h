// ScanWorkers: idle threads that join one query's scan. An exact scan over
// thousands of vectors is cut into chunks; Run executes them on the calling
// thread and on every helper thread that is idle meanwhile, so one query
// uses the cores that other queries leave free (PostgreSQL's parallel
// sequential scan, at the scale of one index).
//
// The caller never waits for a helper to start: it claims chunks itself
// until none is left, then waits only for chunks helpers have already
// begun. Helpers are called only while no more queries are in progress
// (Query) and no more scans run than there are helpers: beyond that the
// cores are busy already, and a scan runs on its caller alone, as without
// helpers (waking helpers then only adds switches and cost 4-9% of the
// throughput of saturated hybrid searches: docs/benchmarks.md). A helper
// also leaves a job, after the chunk it is running, as soon as more
// queries are in progress than there are helpers: a long job (a batch of
// searches) then finishes on its caller while the new query has the core.
//
//   ScanWorkers& workers = ScanWorkers::Shared();
//   std::vector<Partial> partial(workers.slots());
//   workers.Run(chunks, [&](size_t chunk, size_t slot) {
//     Score(chunk, &partial[slot]);   // slot: one thread's own state
//   });
//
// Thread-safety: Run from any number of threads at once. A body runs on one
// thread at a time per slot: slot 0 is the caller, helper i always has slot
// i + 1, so per-slot state needs no lock; Run returns after every chunk's
// body has returned, and what bodies wrote is visible to the caller then.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "base/mutex.h"

namespace hartonomous {

class ScanWorkers {
 public:
  // helpers = 0: every scan runs on its caller.
  explicit ScanWorkers(size_t helpers);
  ~ScanWorkers();
  ScanWorkers(const ScanWorkers&) = delete;
  ScanWorkers& operator=(const ScanWorkers&) = delete;

  // The process-wide workers the indexes use: created at first use with
  // the helpers last given to SetSharedHelpers (default: one fewer than the
  // machine's hardware threads).
  static ScanWorkers& Shared();
  // REQUIRES: before the first Shared(); later calls have no effect (the
  // daemon calls it at start from --scan-threads).
  static void SetSharedHelpers(size_t helpers);

  // Runs body(chunk, slot) once for every chunk in [0, chunks), and returns
  // when all have returned. REQUIRES: body does not throw.
  void Run(size_t chunks, const std::function<void(size_t chunk, size_t slot)>& body) EXCLUDES(mu_);

  // 1 + helpers: the bound of a body's slot.
  size_t slots() const { return helpers_.size() + 1; }

  // Marks a query in progress for as long as it lives (the engine's
  // searches, from the start of their work to its end). Counts once per
  // thread: a Query made on a thread already inside one, or inside a
  // PartOfQuery, counts nothing (a batch's searches are one query).
  class Query {
   public:
    explicit Query(ScanWorkers& workers);
    ~Query();
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

   private:
    ScanWorkers* counted_ = nullptr;  // null: not counted here
  };

  // Marks the running thread as working for a query counted on another
  // thread (a helper running one search of a batch), for as long as it
  // lives: Queries made meanwhile count nothing.
  class PartOfQuery {
   public:
    PartOfQuery();
    ~PartOfQuery();
    PartOfQuery(const PartOfQuery&) = delete;
    PartOfQuery& operator=(const PartOfQuery&) = delete;

   private:
    bool was_inside_;
  };

 private:
  struct Job {
    size_t chunks = 0;
    const std::function<void(size_t, size_t)>* body = nullptr;
    std::atomic<size_t> next{0};
    size_t users = 0;  // helpers inside the job; guarded by mu_
  };

  // Claims and runs chunks of job until none is left; a helper (slot > 0)
  // stops early when more queries are in progress than there are helpers.
  void Drain(Job* job, size_t slot);
  void Help(size_t slot) EXCLUDES(mu_);

  Mutex mu_;
  CondVar work_;  // a job was queued, or stopping
  CondVar idle_;  // a job's users reached 0
  std::deque<Job*> jobs_ GUARDED_BY(mu_);
  std::atomic<size_t> scanning_{0};  // callers inside Run
  std::atomic<size_t> queries_{0};   // Query objects alive
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> helpers_;
};

}  // namespace hartonomous
