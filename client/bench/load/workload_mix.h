// WorkloadMix: which workload request number seq belongs to, for weights
// such as "search=8,ingest-atoms=1,log-inference=1".
//
// The choice is a smooth weighted round robin over one cycle of
// sum(weights) requests, so every cycle holds each workload exactly its
// weight times, interleaved (with weights 8,1,1 the eight are split by the
// others, never sent in one run), and the same seq always maps to the same
// workload.
//
// Thread-safety: immutable after Parse; Pick may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hartonomous::bench {

class WorkloadMix {
 public:
  struct Entry {
    std::string name;
    uint32_t weight = 0;
  };

  // "a=3,b=1" (or a single "a"). Each name once, every weight in 1..1000.
  // On failure returns false and sets *error naming the offending part.
  static bool Parse(const std::string& text, WorkloadMix* mix, std::string* error);
  static WorkloadMix Single(const std::string& name);

  const std::vector<Entry>& entries() const { return entries_; }
  // Index into entries() of request seq.
  size_t Pick(uint64_t seq) const { return cycle_[seq % cycle_.size()]; }

 private:
  void BuildCycle();

  std::vector<Entry> entries_;
  std::vector<uint32_t> cycle_;
};

}  // namespace hartonomous::bench
