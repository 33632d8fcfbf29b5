// Help text of the `hartonomous` tool, generated from the command table.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <vector>

#include "cli_args.h"

namespace hartonomous::cli {

// The general usage: synopsis, commands, global options, exit status.
std::string UsageText(const std::vector<CommandSpec>& commands);

// One command's synopsis, description and options.
std::string CommandHelp(const CommandSpec& command);

// "hartonomous <version>".
std::string VersionText();

}  // namespace hartonomous::cli
