// CallThreads: each body runs on a thread of its own, at most max_threads
// at once; a refused body never runs; the destructor waits for the bodies.
#include "base/call_threads.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <future>
#include <thread>
#include <vector>

using hartonomous::CallThreads;

TEST_CASE("bodies run at the same time, each off the caller's thread", "[call_threads]") {
  constexpr int kBodies = 4;
  std::atomic<int> started{0};
  std::promise<void> all_started;
  std::shared_future<void> all = all_started.get_future().share();
  std::vector<std::thread::id> ran_on(kBodies);
  {
    CallThreads threads(kBodies, "test");
    for (int i = 0; i < kBodies; ++i) {
      // Each body waits until all have started: only possible when they run
      // at once.
      REQUIRE(threads.TryStart([&, i] {
        ran_on[static_cast<size_t>(i)] = std::this_thread::get_id();
        if (++started == kBodies) all_started.set_value();
        all.wait();
      }));
    }
  }
  CHECK(started == kBodies);
  for (const auto& id : ran_on) CHECK(id != std::this_thread::get_id());
}

TEST_CASE("past max_threads a body is refused, and taken again once one ends", "[call_threads]") {
  CallThreads threads(2, "test");
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> first, second;
  REQUIRE(threads.TryStart([&] {
    first.set_value();
    released.wait();
  }));
  REQUIRE(threads.TryStart([&] {
    second.set_value();
    released.wait();
  }));
  first.get_future().wait();
  second.get_future().wait();
  CHECK(threads.running() == 2);
  std::atomic<int> refused_ran{0};
  CHECK_FALSE(threads.TryStart([&] { ++refused_ran; }));
  release.set_value();
  // Once a body has returned, another is taken.
  std::promise<void> third;
  while (!threads.TryStart([&] { third.set_value(); })) std::this_thread::yield();
  third.get_future().wait();
  CHECK(refused_ran == 0);
}

TEST_CASE("the destructor waits for running bodies", "[call_threads]") {
  std::atomic<int> finished{0};
  {
    CallThreads threads(8, "test");
    for (int i = 0; i < 8; ++i) {
      REQUIRE(threads.TryStart([&] {
        // Work long enough to still run when the destructor starts.
        volatile uint64_t sum = 0;
        for (uint64_t k = 0; k < 2'000'000; ++k) sum = sum + k;
        ++finished;
      }));
    }
  }
  CHECK(finished == 8);
}

TEST_CASE("many short bodies are joined as they end", "[call_threads]") {
  CallThreads threads(2, "test");
  std::atomic<int> ran{0};
  for (int i = 0; i < 200; ++i) {
    while (!threads.TryStart([&] { ++ran; })) std::this_thread::yield();
  }
  while (threads.running() > 0) std::this_thread::yield();
  CHECK(ran == 200);
}
