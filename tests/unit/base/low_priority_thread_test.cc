// RunOnLowPriorityThread: fn runs on another thread, at nice 19, and the
// caller's own priority is left as it was.
#include "base/low_priority_thread.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>

namespace {

long ThreadId() { return syscall(SYS_gettid); }

int NiceOf(long tid) {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  REQUIRE(errno == 0);
  return nice;
}

}  // namespace

TEST_CASE("low priority work runs on its own thread at nice 19", "[low_priority_thread]") {
  const long caller = ThreadId();
  const int caller_nice = NiceOf(caller);
  REQUIRE(caller_nice < 19);
  long worker = 0;
  int worker_nice = 0;
  int calls = 0;
  hartonomous::RunOnLowPriorityThread([&] {
    worker = ThreadId();
    worker_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(worker));
    ++calls;
  });
  CHECK(calls == 1);
  CHECK(worker != caller);
  CHECK(worker_nice == 19);
  CHECK(NiceOf(caller) == caller_nice);
}
