// RunOnLowPriorityThread: runs long maintenance work (a retention prune) on a
// thread of its own at the lowest CPU priority, so that on a busy machine
// the threads serving requests and the writer get the CPU first (as
// RocksDB lowers its compaction threads' priority).
//
// The priority is the thread's nice value 19 (Linux setpriority on the
// thread id), never raised again; the thread ends with fn. When the
// priority cannot be lowered, fn still runs, at the normal priority.
//
// Thread-safety: blocks the caller until fn returns; fn runs on the new
// thread, so it must not rely on thread-local state of the caller.
#pragma once

#include <functional>

namespace hartonomous {

void RunOnLowPriorityThread(const std::function<void()>& fn);

}  // namespace hartonomous
