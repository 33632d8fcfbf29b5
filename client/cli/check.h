// `hartonomous check [--repair] [--limit N]`: the server's consistency check
// of its data directory (AdminService.CheckConsistency).
// Thread-safety: runs on the main thread only.
#pragma once

#include <vector>

#include "cli_args.h"

namespace hartonomous::cli {

// Options of `check`.
std::vector<OptionSpec> CheckOptions();

// Prints the per-check summary and every listed mismatch (JSON with
// --json), then throws Failure when mismatches remain after the repairs, so
// the exit status is 0 only for a consistent data directory.
void RunCheck(const Invocation& invocation);

}  // namespace hartonomous::cli
