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

#include <functional>
#include <future>
#include <utility>

#include "base/status.h"

namespace hartonomous::engine {

template <class T, class Start>
Result<T> AwaitResult(Start&& start) {
  std::promise<Result<T>> promise;
  auto future = promise.get_future();
  std::forward<Start>(start)(std::function<void(Result<T>)>(
      [&promise](Result<T> result) { promise.set_value(std::move(result)); }));
  return future.get();
}

}  // namespace hartonomous::engine
