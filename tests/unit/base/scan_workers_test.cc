// ScanWorkers: every chunk runs exactly once, on the caller and on idle
// helpers at the same time, from many concurrent callers; without helpers
// everything runs on the caller; queries counted once per thread, and
// helpers that leave a job when another query starts.
#include "base/scan_workers.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using hartonomous::ScanWorkers;

TEST_CASE("scan workers: every chunk runs once, slots within bounds", "[scan_workers]") {
  ScanWorkers workers(3);
  CHECK(workers.slots() == 4);
  for (size_t chunks : {size_t{1}, size_t{2}, size_t{7}, size_t{1000}}) {
    std::vector<std::atomic<int>> runs(chunks);
    std::atomic<bool> slot_out_of_range{false};
    workers.Run(chunks, [&](size_t chunk, size_t slot) {
      runs[chunk].fetch_add(1);
      if (slot >= workers.slots()) slot_out_of_range = true;
    });
    for (size_t c = 0; c < chunks; ++c) CHECK(runs[c].load() == 1);
    CHECK_FALSE(slot_out_of_range.load());
  }
}

TEST_CASE("scan workers: an idle helper joins while the caller is still scanning",
          "[scan_workers]") {
  ScanWorkers workers(1);
  std::mutex mu;
  std::condition_variable cv;
  std::set<size_t> slots_seen;
  std::set<std::thread::id> threads_seen;
  bool both = false;
  // Each of the two chunks waits until both are running: only possible when
  // the helper runs one while the caller runs the other. A bounded wait
  // turns a missing helper into a failure instead of a hang.
  workers.Run(2, [&](size_t, size_t slot) {
    std::unique_lock<std::mutex> lock(mu);
    slots_seen.insert(slot);
    threads_seen.insert(std::this_thread::get_id());
    if (slots_seen.size() == 2) {
      both = true;
      cv.notify_all();
    }
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return both; });
  });
  CHECK(both);
  CHECK(slots_seen == std::set<size_t>{0, 1});
  CHECK(threads_seen.size() == 2);
  CHECK(threads_seen.count(std::this_thread::get_id()) == 1);
}

TEST_CASE("scan workers: concurrent callers each get all their chunks", "[scan_workers]") {
  ScanWorkers workers(2);
  constexpr size_t kCallers = 6, kRuns = 200, kChunks = 37;
  std::vector<std::thread> callers;
  std::atomic<size_t> wrong{0};
  for (size_t t = 0; t < kCallers; ++t) {
    callers.emplace_back([&] {
      for (size_t r = 0; r < kRuns; ++r) {
        // Per-slot sums, as the indexes keep per-slot results: no lock.
        std::vector<size_t> sums(workers.slots(), 0);
        workers.Run(kChunks, [&](size_t chunk, size_t slot) { sums[slot] += chunk + 1; });
        size_t total = 0;
        for (size_t s : sums) total += s;
        if (total != kChunks * (kChunks + 1) / 2) wrong.fetch_add(1);
      }
    });
  }
  for (auto& t : callers) t.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("scan workers: without helpers every chunk runs on the caller in order",
          "[scan_workers]") {
  ScanWorkers workers(0);
  CHECK(workers.slots() == 1);
  std::vector<size_t> order;
  workers.Run(5, [&](size_t chunk, size_t slot) {
    CHECK(slot == 0);
    order.push_back(chunk);
  });
  CHECK(order == std::vector<size_t>{0, 1, 2, 3, 4});
}

namespace {

// Holds a ScanWorkers::Query on its own thread until released.
class QueryOnAnotherThread {
 public:
  explicit QueryOnAnotherThread(ScanWorkers& workers)
      : thread_([this, &workers] {
          ScanWorkers::Query query(workers);
          std::unique_lock<std::mutex> lock(mu_);
          started_ = true;
          cv_.notify_all();
          cv_.wait(lock, [&] { return released_; });
        }) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return started_; });
  }
  ~QueryOnAnotherThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false, released_ = false;
  std::thread thread_;
};

// The slots that ran the chunks of a job whose two first chunks each wait
// (bounded) until both run, which only happens when a helper joins.
std::set<size_t> SlotsOfTwoChunks(ScanWorkers& workers) {
  std::mutex mu;
  std::condition_variable cv;
  std::set<size_t> slots;
  workers.Run(2, [&](size_t, size_t slot) {
    std::unique_lock<std::mutex> lock(mu);
    slots.insert(slot);
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(2), [&] { return slots.size() == 2; });
  });
  return slots;
}

}  // namespace

TEST_CASE("scan workers: a query counts once per thread, and a batch's parts not at all",
          "[scan_workers]") {
  ScanWorkers workers(1);
  {
    // Nested on one thread: one query, so the one helper still joins.
    ScanWorkers::Query outer(workers);
    ScanWorkers::Query inner(workers);
    CHECK(SlotsOfTwoChunks(workers) == std::set<size_t>{0, 1});
  }
  {
    // A thread working for another thread's query adds none either.
    ScanWorkers::PartOfQuery part;
    ScanWorkers::Query inner(workers);
    QueryOnAnotherThread other(workers);
    CHECK(SlotsOfTwoChunks(workers) == std::set<size_t>{0, 1});
  }
  {
    // Two queries on two threads: more than the one helper, the caller
    // runs everything.
    ScanWorkers::Query mine(workers);
    QueryOnAnotherThread other(workers);
    std::set<size_t> slots;
    workers.Run(50, [&](size_t, size_t slot) { slots.insert(slot); });
    CHECK(slots == std::set<size_t>{0});
  }
}

TEST_CASE("scan workers: a helper leaves a long job when another query starts", "[scan_workers]") {
  ScanWorkers workers(1);
  ScanWorkers::Query mine(workers);
  constexpr size_t kChunks = 200;
  std::mutex mu;
  std::condition_variable cv;
  bool helper_inside = false, other_started = false;
  std::vector<std::atomic<int>> runs(kChunks);
  std::atomic<size_t> helper_chunks{0};
  std::unique_ptr<QueryOnAnotherThread> other;
  workers.Run(kChunks, [&](size_t chunk, size_t slot) {
    runs[chunk].fetch_add(1);
    std::unique_lock<std::mutex> lock(mu);
    if (slot > 0) {
      helper_chunks.fetch_add(1);
      helper_inside = true;
      cv.notify_all();
      // Held inside its first chunk until the second query has started.
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return other_started; });
    } else if (!other_started) {
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return helper_inside; });
      other = std::make_unique<QueryOnAnotherThread>(workers);
      other_started = true;
      cv.notify_all();
    }
  });
  CHECK(helper_inside);
  for (size_t c = 0; c < kChunks; ++c) CHECK(runs[c].load() == 1);
  // The chunk it was running when the second query started, and no more.
  CHECK(helper_chunks.load() == 1);
}
