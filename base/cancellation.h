// Cancellation: tells long work when to stop early: its deadline passed, or
// whoever asked for it went away. The RPC layer makes one from a call (its
// deadline and its client's cancel) and passes it down; the layers below
// see only this plain object and check it between units of work (a query of
// a batch, a block of an exact scan). A default Cancellation never stops.
//
//   Check() == OK                   go on
//   DeadlineExceeded "deadline passed: ..."   the deadline is behind us
//   Cancelled "cancelled: ..."      cancelled() said so (the client went away)
//
// Thread-safety: Check is const and may run on any thread; `cancelled` must
// be safe to call from any thread (a scan's helper threads check it too).
#pragma once

#include <chrono>
#include <functional>
#include <string_view>
#include <utility>

#include "base/status.h"

namespace hartonomous {

class Cancellation {
 public:
  using Clock = std::chrono::system_clock;

  // Never stops.
  Cancellation() = default;
  // Stops once `deadline` passes (Clock::time_point::max() = never) or
  // cancelled() returns true (unset = never).
  Cancellation(Clock::time_point deadline, std::function<bool()> cancelled)
      : deadline_(deadline), cancelled_(std::move(cancelled)) {}

  // True when this can ever stop (has a deadline or a cancel check).
  bool can_stop() const { return deadline_ != Clock::time_point::max() || cancelled_ != nullptr; }

  // OK to go on; DeadlineExceeded or Cancelled (each naming `what`, the
  // work stopped, e.g. "search of collection 'c'") to stop.
  Status Check(std::string_view what) const {
    if (deadline_ != Clock::time_point::max() && Clock::now() >= deadline_) {
      return Status::DeadlineExceeded("deadline passed: " + std::string(what) +
                                      " stopped before it finished");
    }
    if (cancelled_ != nullptr && cancelled_()) {
      return Status::Cancelled("cancelled: " + std::string(what) +
                               " stopped, the caller went away");
    }
    return Status::Ok();
  }

 private:
  Clock::time_point deadline_ = Clock::time_point::max();
  std::function<bool()> cancelled_;
};

}  // namespace hartonomous
