// `hartonomous backup PATH`: an online backup of the server's data
// directory into the new directory PATH on the server (AdminService.Backup).
// Thread-safety: runs on the main thread only.
#pragma once

#include "cli_args.h"

namespace hartonomous::cli {

// Prints the backup's path, sizes and duration (JSON with --json).
void RunBackup(const Invocation& invocation);

}  // namespace hartonomous::cli
