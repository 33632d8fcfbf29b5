// Running the real `hartonomous` CLI against a test daemon.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
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

inline const char* const kFashionImages =
    "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
inline const char* const kFashionLabels =
    "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";

// The first n Fashion-MNIST test images as collection "fm" (l2, hnsw) with
// their labels in metadata, loaded by the CLI. Returns false when the dataset
// is missing.
inline bool LoadFashion(Daemon& daemon, int n) {
  if (!std::filesystem::exists(kFashionImages)) {
    WARN("Fashion-MNIST is not installed; skipping");
    return false;
  }
  nlohmann::json loaded =
      JsonOf(Cli(daemon, {"--json", "load-vectors", kFashionImages, "--labels", kFashionLabels,
                          "-c", "fm", "--metric", "l2", "--limit", std::to_string(n)}));
  REQUIRE(loaded["embeddings_added"] == n);
  return true;
}

}  // namespace hartonomous::testing
