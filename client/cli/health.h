// `hartonomous health`: the server's grpc.health.v1 status, for scripts,
// Docker's HEALTHCHECK and orchestrators' probes.
// Thread-safety: runs on the main thread only.
#pragma once

#include "cli_args.h"

namespace hartonomous::cli {

// Options of `health`.
std::vector<OptionSpec> HealthOptions();

// Prints SERVING and returns, or prints NOT_SERVING (with the reason the
// server gives while it starts, e.g. "starting: replaying collection 'x':
// 4096 of 12000 vectors") and throws Failure, so the exit status is 0 only
// when SERVING. With --wait, waits (up to --timeout) until SERVING.
void RunHealth(const Invocation& invocation);

}  // namespace hartonomous::cli
