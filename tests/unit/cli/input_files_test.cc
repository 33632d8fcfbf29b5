// Files that change between the directory listing and the read (ingest-doc
// -r reports each with its reason and goes on with the others).
#include "client/cli/input_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/unit/temp_dir.h"

using namespace hartonomous;
namespace fs = std::filesystem;

namespace {

void Write(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

}  // namespace

TEST_CASE("files that vanish, change size or turn into a FIFO after listing are reported") {
  testing::TempDir dir;
  const std::string root = dir.dir();
  Write(root + "/a_kept.txt", "kept as listed\n");
  Write(root + "/b_vanishes.txt", "removed after listing\n");
  Write(root + "/c_grows.txt", "short\n");
  Write(root + "/d_shrinks.txt", "a longer line that will be cut\n");
  Write(root + "/e_becomes_fifo.txt", "replaced by a FIFO\n");
  fs::create_directory(root + "/f_becomes_dir");
  Write(root + "/f_becomes_dir/inner.txt", "inner\n");

  cli::InputOptions options;
  options.recursive = true;
  options.keep_going = true;
  const auto inputs = cli::CollectInputs({root}, options);
  std::map<std::string, cli::InputFile> by_name;
  for (const auto& input : inputs) by_name[fs::path(input.path).filename().string()] = input;
  REQUIRE(by_name.size() == 6);
  for (const auto& [name, input] : by_name) {
    REQUIRE(input.problem.empty());
    REQUIRE(input.size_known);
  }

  // The changes happen after the listing, as when another process works in
  // the directory during a long ingest.
  fs::remove(root + "/b_vanishes.txt");
  Write(root + "/c_grows.txt", "short, and then much longer\n");
  Write(root + "/d_shrinks.txt", "cut\n");
  fs::remove(root + "/e_becomes_fifo.txt");
  REQUIRE(mkfifo((root + "/e_becomes_fifo.txt").c_str(), 0600) == 0);
  fs::remove_all(root + "/f_becomes_dir");
  Write(root + "/f_becomes_dir", "a file where a directory was\n");

  std::string content;
  CHECK(cli::ReadInputChecked(by_name["a_kept.txt"], &content).empty());
  CHECK(content == "kept as listed\n");
  CHECK(cli::ReadInputChecked(by_name["b_vanishes.txt"], &content) ==
        "vanished before it was read");
  CHECK(cli::ReadInputChecked(by_name["c_grows.txt"], &content).find("changed size since it was "
                                                                      "listed (6 -> 28 bytes)") ==
        0);
  CHECK(cli::ReadInputChecked(by_name["d_shrinks.txt"], &content).find("changed size") == 0);
  // Opened non-blocking: a FIFO with no writer is reported, never waited on.
  CHECK(cli::ReadInputChecked(by_name["e_becomes_fifo.txt"], &content) ==
        "is no longer a regular file; not read");
  // inner.txt's directory is gone.
  CHECK(cli::ReadInputChecked(by_name["inner.txt"], &content) == "vanished before it was read");
  // ReadInput names the path in its error.
  CHECK_THROWS_WITH(cli::ReadInput(by_name["b_vanishes.txt"]),
                    Catch::Contains(by_name["b_vanishes.txt"].path));
}
