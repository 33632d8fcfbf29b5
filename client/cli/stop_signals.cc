#include "stop_signals.h"

#include <pthread.h>
#include <unistd.h>

#include <utility>

namespace hartonomous::cli {

StopSignals::StopSignals(std::function<void(int)> on_stop) : on_stop_(std::move(on_stop)) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set_, &old_mask_);
  watcher_ = std::thread([this] { Watch(); });
}

StopSignals::~StopSignals() {
  quitting_.store(true);
  pthread_kill(watcher_.native_handle(), SIGUSR1);
  watcher_.join();
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void StopSignals::Watch() {
  while (true) {
    int sig = 0;
    if (sigwait(&set_, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      if (quitting_.load()) return;
      continue;
    }
    if (signal_.exchange(sig) != 0) _exit(128 + sig);  // the second request
    on_stop_(sig);
  }
}

}  // namespace hartonomous::cli
