// ScanWorkers: every chunk runs exactly once, on the caller and on idle
// helpers at the same time, from many concurrent callers; without helpers
// everything runs on the caller.
#include "base/scan_workers.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
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
