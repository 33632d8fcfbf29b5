// WorkPool: work runs on the pool's threads in the order posted, the queue
// refuses work beyond its bound, and the destructor runs what was queued.
#include "base/work_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>
#include <vector>

using hartonomous::WorkPool;

TEST_CASE("work posted to one thread runs in order, off the caller's thread", "[work_pool]") {
  std::vector<int> order;
  std::vector<std::thread::id> ran_on;
  {
    WorkPool pool(1, 100, "test");
    CHECK(pool.threads() == 1);
    for (int i = 0; i < 50; ++i) {
      REQUIRE(pool.TryPost([&, i] {
        order.push_back(i);
        ran_on.push_back(std::this_thread::get_id());
      }));
    }
  }  // the destructor runs what is queued, then joins
  REQUIRE(order.size() == 50);
  for (int i = 0; i < 50; ++i) CHECK(order[static_cast<size_t>(i)] == i);
  for (const auto& id : ran_on) CHECK(id != std::this_thread::get_id());
}

TEST_CASE("a full queue refuses work and takes it again once there is room", "[work_pool]") {
  WorkPool pool(1, 2, "test");
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  REQUIRE(pool.TryPost([&] {
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();  // the thread is busy: what follows queues
  CHECK(pool.running() == 1);
  int ran = 0;
  REQUIRE(pool.TryPost([&] { ++ran; }));
  REQUIRE(pool.TryPost([&] { ++ran; }));
  CHECK(pool.queued() == 2);
  CHECK_FALSE(pool.TryPost([&] { ran += 100; }));  // refused: not run, ever
  release.set_value();
  // The queue drains in order; a marker posted once there is room runs last.
  std::promise<void> drained;
  while (!pool.TryPost([&] { drained.set_value(); })) std::this_thread::yield();
  drained.get_future().wait();
  CHECK(ran == 2);
  CHECK(pool.queued() == 0);
}

TEST_CASE("several threads run work at the same time", "[work_pool]") {
  constexpr int kThreads = 4;
  WorkPool pool(kThreads, 16, "test");
  // Each item waits until all kThreads have started: only possible when
  // they run at once.
  std::promise<void> all_started;
  std::atomic<int> started{0};
  std::shared_future<void> go = all_started.get_future().share();
  std::vector<std::promise<void>> done(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    REQUIRE(pool.TryPost([&, i] {
      if (started.fetch_add(1) + 1 == kThreads) all_started.set_value();
      go.wait();
      done[static_cast<size_t>(i)].set_value();
    }));
  }
  for (auto& d : done) d.get_future().wait();
  CHECK(started.load() == kThreads);
}
