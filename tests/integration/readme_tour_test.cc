// The README's tour, run as written: every ```sh block of README.md, in
// order, as one bash script (set -euo pipefail) against a real daemon, in a
// fresh directory where build/client/cli/hartonomous is the built CLI. A
// command that fails, a `cmp` that differs or an id that is not where the
// tour says fails the test, so the README cannot drift from the CLI.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon_harness.h"

namespace hartonomous::testing {
namespace {

// The contents of every fenced block opened by "```sh", in order.
std::vector<std::string> ShellBlocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  std::istringstream in(markdown);
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```sh") {
      inside = true;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      blocks.push_back(block);
    } else if (inside) {
      block += line + "\n";
    }
  }
  REQUIRE_FALSE(inside);  // an unclosed block
  return blocks;
}

}  // namespace

TEST_CASE("README tour", "[cli][readme]") {
  std::ifstream file(std::string(HARTONOMOUS_SOURCE_DIR) + "/README.md");
  REQUIRE(file);
  std::stringstream text;
  text << file.rdbuf();
  const std::vector<std::string> blocks = ShellBlocks(text.str());
  // Atoms, documents, vectors, Fashion-MNIST, spatial, policies, models (2),
  // inference logs.
  REQUIRE(blocks.size() >= 9);

  Daemon daemon;
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/build/client/cli");
  std::filesystem::create_symlink(CliPath(), dir.path() + "/build/client/cli/hartonomous");
  std::string script;
  for (const std::string& block : blocks) script += block;
  std::ofstream(dir.path() + "/tour.sh") << script;

  const ProcessResult run =
      RunProcess({"/usr/bin/env", "HARTONOMOUS_SERVER=" + daemon.address(), "/bin/bash", "-c",
                  "cd \"$0\" && exec /bin/bash -euo pipefail -x tour.sh", dir.path()});
  INFO("script:\n" << script << "\nstdout:\n" << run.out << "\nstderr (trace):\n" << run.err);
  REQUIRE(run.exit_code == 0);
  // What the tour's comments promise.
  CHECK(run.out.find("refs=2  reused   /usr/share/common-licenses/GPL-3") != std::string::npos);
  CHECK(run.out.find("reference_count  2") != std::string::npos);  // Apache-2.0 ingested again
  CHECK(run.out.find("deleted model") != std::string::npos);
}

}  // namespace hartonomous::testing
