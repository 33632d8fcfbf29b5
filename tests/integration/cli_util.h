// Running the real `hartonomous` CLI against a test daemon.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon_harness.h"

namespace hartonomous::testing {

// Runs the CLI against `daemon`: hartonomous --server ADDR args...
inline ProcessResult Cli(const Daemon& daemon, std::vector<std::string> args,
                         const std::string& stdin_data = "") {
  std::vector<std::string> argv = {CliPath(), "--server", daemon.address()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, stdin_data);
}

// Parses stdout as JSON after checking that the command succeeded.
inline nlohmann::json JsonOf(const ProcessResult& result) {
  INFO("stdout: " << result.out << "\nstderr: " << result.err);
  REQUIRE(result.exit_code == 0);
  return nlohmann::json::parse(result.out);
}

}  // namespace hartonomous::testing
