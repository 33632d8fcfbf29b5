#include "storage/write_batcher.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "storage/key_codec.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

TEST_CASE("concurrent writers are all committed, in fewer commits than requests") {
  testing::TempEnv t;
  WriteBatcher writer(t.env());
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i) {
        const uint64_t key = static_cast<uint64_t>(th) * 1000 + i;
        Status s = writer.Write(
            [&](WriteTxn& txn) { return txn.Put(t.tables().atoms, Be64Key(key), "v"); });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  const WriterStats stats = writer.stats();
  CHECK(stats.requests == kThreads * kPerThread);
  CHECK(stats.items == kThreads * kPerThread);
  CHECK(stats.commits <= stats.requests);
  ReadTxn txn(t.env());
  CHECK(*txn.Count(t.tables().atoms) == kThreads * kPerThread);
}

TEST_CASE("a failing request undoes only its own writes, even inside a group") {
  testing::TempEnv t;
  WriteBatcher writer(t.env());
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  std::vector<Status> results(kThreads);
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      results[th] = writer.Write([&, th](WriteTxn& txn) -> Status {
        for (int i = 0; i < 10; ++i) {
          HT_RETURN_IF_ERROR(txn.Put(t.tables().atoms, Be64Key(th * 100 + i), "v"));
        }
        // Odd requests fail after writing.
        if (th % 2 == 1) return Status::InvalidArgument("request " + std::to_string(th));
        return Status::Ok();
      });
    });
  }
  for (auto& th : threads) th.join();
  ReadTxn txn(t.env());
  for (int th = 0; th < kThreads; ++th) {
    INFO(th);
    CHECK(results[th].ok() == (th % 2 == 0));
    std::string_view v;
    CHECK(*txn.Get(t.tables().atoms, Be64Key(th * 100 + 9), &v) == (th % 2 == 0));
    CHECK(*txn.Get(t.tables().atoms, Be64Key(th * 100), &v) == (th % 2 == 0));
  }
}

TEST_CASE("writes past the map size grow the map transparently") {
  testing::TempEnv t(size_t{1} << 20);
  WriteBatcher writer(t.env());
  const std::string value(200 << 10, 'q');
  for (uint64_t i = 0; i < 40; ++i) {  // ~8 MiB into a 1 MiB map
    REQUIRE(writer
                .Write([&](WriteTxn& txn) {
                  return txn.Put(t.tables().atom_payload, Be64Key(i), value);
                })
                .ok());
  }
  CHECK(t.env().resizes() >= 3);
  CHECK(writer.stats().retries >= 3);
  ReadTxn txn(t.env());
  CHECK(*txn.Count(t.tables().atom_payload) == 40);
}

TEST_CASE("on-commit hooks run after the commit, a stopped writer refuses work") {
  testing::TempEnv t;
  WriteBatcher writer(t.env());
  bool visible_in_hook = false;
  REQUIRE(writer
              .Write([&](WriteTxn& txn) {
                txn.OnCommit([&] {
                  ReadTxn read(t.env());
                  std::string_view v;
                  visible_in_hook = *read.Get(t.tables().atoms, "k", &v);
                });
                return txn.Put(t.tables().atoms, "k", "v");
              })
              .ok());
  CHECK(visible_in_hook);
  writer.Stop();
  Status s = writer.Write([&](WriteTxn& txn) { return txn.Put(t.tables().atoms, "k2", "v"); });
  CHECK(s.code() == Status::Code::kUnavailable);
}

TEST_CASE(
    "RunExclusive runs alone on the writer thread and writes queued meanwhile commit after it",
    "[storage][compact]") {
  testing::TempEnv t;
  WriteBatcher writer(t.env());
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> write_done{false};
  Status exclusive_status;
  std::thread exclusive([&] {
    exclusive_status = writer.RunExclusive([&]() -> Status {
      started.set_value();
      released.wait();
      // No write transaction of the writer is open: this one can begin.
      WriteTxn txn(t.env(), nullptr);
      HT_RETURN_IF_ERROR(txn.status());
      HT_RETURN_IF_ERROR(txn.Put(t.tables().atoms, Be64Key(1), "exclusive"));
      return txn.Commit();
    });
  });
  started.get_future().wait();
  std::thread write([&] {
    Status s =
        writer.Write([&](WriteTxn& txn) { return txn.Put(t.tables().atoms, Be64Key(1), "after"); });
    CHECK(s.ok());
    write_done = true;
  });
  // The writer thread is inside the exclusive function: the write cannot
  // have committed.
  CHECK_FALSE(write_done.load());
  release.set_value();
  exclusive.join();
  write.join();
  CHECK(exclusive_status.ok());
  ReadTxn txn(t.env());
  std::string_view value;
  REQUIRE(*txn.Get(t.tables().atoms, Be64Key(1), &value));
  CHECK(value == "after");
}

TEST_CASE("RunExclusive returns its function's status and is Unavailable after Stop",
          "[storage][compact]") {
  testing::TempEnv t;
  WriteBatcher writer(t.env());
  CHECK(writer.RunExclusive([] { return Status::Aborted("no"); }).code() == Status::Code::kAborted);
  writer.Stop();
  CHECK(writer.RunExclusive([] { return Status::Ok(); }).code() == Status::Code::kUnavailable);
}

TEST_CASE("a write queued during background work joins the background request's commit") {
  testing::TempEnv t;
  WriteBatcher writer(t.env());
  std::atomic<bool> background_running{false};
  bool saw_waiting = false;
  Status background_status;
  std::thread background([&] {
    background_status = writer.WriteBackground([&](WriteTxn& txn) -> Status {
      HT_RETURN_IF_ERROR(txn.Put(t.tables().atoms, Be64Key(1), "background"));
      background_running = true;
      // Work in slices until a foreground write waits (bounded: the writer
      // below is started only once this flag is set).
      for (uint64_t i = 0; i < (uint64_t{1} << 40) && !writer.ForegroundWaiting(); ++i) {
        std::this_thread::yield();
      }
      saw_waiting = writer.ForegroundWaiting();
      return Status::Ok();
    });
  });
  while (!background_running) std::this_thread::yield();
  // Two foreground writes, the second failing: it undoes only its own write.
  std::promise<Status> failing;
  std::thread second([&] {
    failing.set_value(writer.Write([&](WriteTxn& txn) -> Status {
      HT_RETURN_IF_ERROR(txn.Put(t.tables().atoms, Be64Key(3), "undone"));
      return Status::InvalidArgument("refused");
    }));
  });
  Status first =
      writer.Write([&](WriteTxn& txn) { return txn.Put(t.tables().atoms, Be64Key(2), "fore"); });
  second.join();
  background.join();
  CHECK(background_status.ok());
  CHECK(first.ok());
  CHECK(failing.get_future().get().code() == Status::Code::kInvalidArgument);
  CHECK(saw_waiting);
  const WriterStats stats = writer.stats();
  // The background request was alone when its group began; at least one
  // write joined it late, so the three requests took at most two commits (a
  // failing request alone in a group commits nothing).
  CHECK(stats.joined >= 1);
  CHECK(stats.commits >= 1);
  CHECK(stats.commits <= 2);
  ReadTxn txn(t.env());
  std::string_view v;
  CHECK(*txn.Get(t.tables().atoms, Be64Key(1), &v));
  CHECK(v == "background");
  CHECK(*txn.Get(t.tables().atoms, Be64Key(2), &v));
  CHECK_FALSE(*txn.Get(t.tables().atoms, Be64Key(3), &v));
}

TEST_CASE("ForegroundWaiting counts queued writes, not background ones") {
  testing::TempEnv t;
  WriteBatcher writer(t.env());
  CHECK_FALSE(writer.ForegroundWaiting());
  bool waiting_inside = true;
  // A background request alone: nothing foreground waits while it runs.
  CHECK(writer
            .WriteBackground([&](WriteTxn&) {
              waiting_inside = writer.ForegroundWaiting();
              return Status::Ok();
            })
            .ok());
  CHECK_FALSE(waiting_inside);
  CHECK_FALSE(writer.ForegroundWaiting());
}

TEST_CASE("WriteAsync completes each request on the writer thread after its commit") {
  testing::TempEnv t;
  WriteBatcher writer(t.env());
  constexpr int kRequests = 300;
  struct Done {
    Status status;
    std::thread::id thread;
    bool visible = false;  // the request's key, read in a new read transaction
  };
  std::mutex mu;
  std::vector<Done> done(kRequests);
  std::vector<int> calls(kRequests, 0);
  int completed = 0;
  std::promise<void> all_done;
  for (int i = 0; i < kRequests; ++i) {
    writer.WriteAsync(
        [&, i](WriteTxn& txn) -> Status {
          HT_RETURN_IF_ERROR(txn.Put(t.tables().atoms, Be64Key(i), "v"));
          // Every third request fails after writing: its write is undone.
          if (i % 3 == 2) return Status::InvalidArgument("request " + std::to_string(i));
          return Status::Ok();
        },
        [&, i](Status status) {
          bool visible = false;
          {
            ReadTxn read(t.env());
            std::string_view v;
            visible = read.status().ok() && *read.Get(t.tables().atoms, Be64Key(i), &v);
          }  // closed before mu is taken (one lock order: mu is never held with a txn)
          std::lock_guard<std::mutex> lock(mu);
          done[i] = Done{std::move(status), std::this_thread::get_id(), visible};
          ++calls[i];
          if (++completed == kRequests) all_done.set_value();
        });
  }
  all_done.get_future().wait();
  {
    std::lock_guard<std::mutex> lock(mu);
    for (int i = 0; i < kRequests; ++i) {
      INFO(i);
      CHECK(calls[i] == 1);
      CHECK(done[i].thread != std::this_thread::get_id());
      CHECK(done[i].status.ok() == (i % 3 != 2));
      // A successful request's completion already sees its write committed.
      CHECK(done[i].visible == (i % 3 != 2));
    }
  }
  CHECK(writer.stats().requests == kRequests);
  ReadTxn txn(t.env());
  CHECK(*txn.Count(t.tables().atoms) == kRequests - kRequests / 3);
}

TEST_CASE("Stop completes the queued WriteAsync requests, and after it they complete at once") {
  testing::TempEnv t;
  WriteBatcher writer(t.env());
  constexpr int kRequests = 100;
  std::atomic<int> ok{0};
  for (int i = 0; i < kRequests; ++i) {
    writer.WriteAsync([&, i](WriteTxn& txn) { return txn.Put(t.tables().atoms, Be64Key(i), "v"); },
                      [&](Status status) {
                        if (status.ok()) ++ok;
                      });
  }
  writer.Stop();  // finishes what is queued
  CHECK(ok == kRequests);
  Status late;
  std::thread::id late_thread;
  writer.WriteAsync([&](WriteTxn& txn) { return txn.Put(t.tables().atoms, "late", "v"); },
                    [&](Status status) {
                      late = std::move(status);
                      late_thread = std::this_thread::get_id();
                    });
  CHECK(late.code() == Status::Code::kUnavailable);
  CHECK(late_thread == std::this_thread::get_id());
  ReadTxn txn(t.env());
  CHECK(*txn.Count(t.tables().atoms) == kRequests);
}
