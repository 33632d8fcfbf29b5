// The flags hartonomous-bench's workloads and suites have in common, in one
// place so that a flag means the same thing, with the same default, in every
// command that takes it.
//
// Thread-safety: plain functions returning new values.
#pragma once

#include <initializer_list>
#include <vector>

#include "bench_flags.h"

namespace hartonomous::bench {

// --server, --server-pid.
std::vector<FlagSpec> ServerFlags();
// --train, --queries (Fashion-MNIST by default; IDX, .npy, .fvecs),
// --vectors, --nq (default nq_default), --k, --m, --ef-construction.
std::vector<FlagSpec> VectorDataFlags(const char* nq_default);
// --json (print the JSON report instead of the summary), --json-out, --help.
std::vector<FlagSpec> ReportFlags();
// The tables one after another.
std::vector<FlagSpec> JoinFlags(std::initializer_list<std::vector<FlagSpec>> tables);

}  // namespace hartonomous::bench
