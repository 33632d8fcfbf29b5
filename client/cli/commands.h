// The commands of the `hartonomous` tool: the table that defines their grammar
// and help, and the client settings they share.
//
// Each command prints its result on stdout (text, or JSON with --json) and
// throws UsageError or Failure (cli_errors.h) when it cannot succeed.
// Thread-safety: runs on the main thread only.
#pragma once

#include <vector>

#include "cli_args.h"
#include "hartonomous/client.h"

namespace hartonomous::cli {

// Every command, in the order the help lists them.
const std::vector<CommandSpec>& Commands();

// Client settings from the global flags (--server, --timeout).
ClientOptions MakeClientOptions(const GlobalOptions& global);

}  // namespace hartonomous::cli
