// BenchCommand: a hartonomous-bench command other than a load workload,
// such as a suite that measures the server against an in-process reference
// in one run. hartonomous-bench parses the command's flag table with
// BenchFlags, prints its help, and turns a FlagError thrown by run into exit
// status 2 with the error's message.
//
// Thread-safety: plain values.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bench_flags.h"

namespace hartonomous::bench {

struct BenchCommand {
  std::string name;
  std::string summary;  // one line for hartonomous-bench --help
  std::vector<FlagSpec> flags;
  std::function<int(const BenchFlags&)> run;  // returns the exit status
};

}  // namespace hartonomous::bench
