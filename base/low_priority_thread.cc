#include "base/low_priority_thread.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

namespace hartonomous {

void RunOnLowPriorityThread(const std::function<void()>& fn) {
  std::thread worker([&fn] {
    // On Linux a thread's nice value is its own: PRIO_PROCESS with the
    // thread id sets this thread alone.
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    (void)setpriority(PRIO_PROCESS, tid, 19);
    fn();
  });
  worker.join();
}

}  // namespace hartonomous
