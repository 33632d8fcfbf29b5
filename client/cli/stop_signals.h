// StopSignals: SIGINT and SIGTERM as a request to stop, handled on a thread
// of its own so that the handler may take locks and cancel gRPC calls.
//
// The constructor blocks SIGINT, SIGTERM and SIGUSR1 in the calling thread;
// threads started afterwards (gRPC's included) inherit that mask, so the
// signals reach only the watcher, which waits for them with sigwait. The
// first SIGINT/SIGTERM calls on_stop(signal) once; a second one ends the
// process at once with 128 + signal. SIGUSR1 only wakes the watcher when the
// object is destroyed.
//
// Thread-safety: signal() may be called from any thread; one thread creates
// and destroys the object.
// REQUIRES: constructed before the threads that must not receive the
// signals are started (create it before the Client).
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace hartonomous::cli {

class StopSignals {
 public:
  explicit StopSignals(std::function<void(int signal)> on_stop);
  // Stops the watcher and restores the calling thread's signal mask.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal that asked to stop, or 0.
  int signal() const { return signal_.load(); }

 private:
  void Watch();

  const std::function<void(int)> on_stop_;
  sigset_t set_{};
  sigset_t old_mask_{};
  std::atomic<int> signal_{0};
  std::atomic<bool> quitting_{false};
  std::thread watcher_;
};

}  // namespace hartonomous::cli
