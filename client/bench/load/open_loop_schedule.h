// OpenLoopSchedule: the intended send time of every request of a run at a
// fixed rate, independent of when earlier requests finished. Latency is then
// measured from the intended time, so a stalled server is charged for the
// requests it delayed (no coordinated omission).
//
// Thread-safety: immutable after construction.
#pragma once

#include <chrono>
#include <cstdint>

namespace hartonomous::bench {

class OpenLoopSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  // rate_per_s > 0.
  OpenLoopSchedule(Clock::time_point start, double rate_per_s)
      : start_(start), period_s_(1.0 / rate_per_s) {}

  // Request i (from 0) is due at start + i / rate.
  Clock::time_point IntendedTime(uint64_t i) const {
    return start_ + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(i) * period_s_));
  }

 private:
  Clock::time_point start_;
  double period_s_;
};

}  // namespace hartonomous::bench
