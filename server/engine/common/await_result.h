// WriteThen and AwaitResult: engine writes answered from their commit.
//
// WriteThen<T>(writer, fn, done): fn(txn, value) runs in the writer's next
// group (WriteBatcher::WriteAsync) and fills a T; done receives that T once
// the group has committed, or the failure. value starts from T{} on every
// run of fn (a group may run again after the map grew), so fn may assign
// or append to it.
//
// AwaitResult: the synchronous form of an engine call that completes
// asynchronously (its result handed to a callback, e.g. from the writer
// thread after a group commit; see storage/write_batcher.h, WriteAsync).
//
//   Result<IngestSummary> AtomEngine::Ingest(std::vector<AtomInput> atoms) {
//     return AwaitResult<IngestSummary>(
//         [&](auto done) { IngestAsync(std::move(atoms), std::move(done)); });
//   }
//
// start(done) must call done exactly once, on any thread (before it
// returns, or later); AwaitResult blocks until then.
//
// Thread-safety: reentrant; do not call it on the thread that would run
// done (the writer thread), which would wait for itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <utility>

#include "base/status.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

template <class T>
void WriteThen(storage::WriteBatcher& writer,
               std::function<Status(storage::WriteTxn& txn, T& value)> fn,
               std::function<void(Result<T>)> done, size_t bytes = 0, uint64_t items = 1) {
  auto value = std::make_shared<T>();
  writer.WriteAsync(
      [value, fn = std::move(fn)](storage::WriteTxn& txn) {
        *value = T{};
        return fn(txn, *value);
      },
      [value, done = std::move(done)](Status status) {
        if (status.ok()) {
          done(std::move(*value));
        } else {
          done(std::move(status));
        }
      },
      bytes, items);
}

template <class T, class Start>
Result<T> AwaitResult(Start&& start) {
  std::promise<Result<T>> promise;
  auto future = promise.get_future();
  std::forward<Start>(start)(std::function<void(Result<T>)>(
      [&promise](Result<T> result) { promise.set_value(std::move(result)); }));
  return future.get();
}

// AwaitResult for a call whose completion carries only a Status.
template <class Start>
Status AwaitStatus(Start&& start) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  std::forward<Start>(start)(std::function<void(Status)>(
      [&promise](Status status) { promise.set_value(std::move(status)); }));
  return future.get();
}

}  // namespace hartonomous::engine
