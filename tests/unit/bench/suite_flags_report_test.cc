// The suites' flag forms (lists, repeated flags, required values, the
// throwing getters) and their report (SuiteReport).

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_flags.h"
#include "flag_sets.h"
#include "suite_report.h"
#include "tests/unit/temp_dir.h"

namespace hartonomous::bench {
namespace {

bool ParseArgs(BenchFlags& flags, std::vector<std::string> args, std::string* error) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return flags.Parse(static_cast<int>(argv.size()), argv.data(), 0, error);
}

TEST_CASE("Suite flags: lists, repeated values and required flags, errors naming the flag") {
  BenchFlags flags({{"efs", "10,20", "ef values"},
                    {"fractions", "0.01,0.05", "fractions"},
                    {"corpus", "/default", "text", false, true},
                    {"dir", "", "a directory"}});
  std::string error;
  REQUIRE(ParseArgs(flags, {}, &error));
  REQUIRE(flags.IntListIn("efs", 1, 1000) == std::vector<int64_t>{10, 20});
  REQUIRE(flags.DoubleListIn("fractions", 0, 1) == std::vector<double>{0.01, 0.05});
  REQUIRE(flags.All("corpus") == std::vector<std::string>{"/default"});
  REQUIRE_THROWS_WITH(flags.Required("dir"), "--dir is required");

  BenchFlags given({{"efs", "10,20", "ef values"},
                    {"corpus", "/default", "text", false, true},
                    {"dir", "", "a directory"}});
  REQUIRE(
      ParseArgs(given, {"--efs", "5,7,9", "--corpus", "a", "--corpus=b", "--dir", "/x"}, &error));
  REQUIRE(given.IntListIn("efs", 1, 1000) == std::vector<int64_t>{5, 7, 9});
  REQUIRE(given.All("corpus") == std::vector<std::string>{"a", "b"});
  REQUIRE(given.Required("dir") == "/x");
  // An item out of range or not a number names the flag, the item and the list.
  try {
    given.IntListIn("efs", 6, 1000);
    FAIL("5 is below 6");
  } catch (const FlagError& e) {
    const std::string what = e.what();
    REQUIRE(what.find("--efs") != std::string::npos);
    REQUIRE(what.find("'5'") != std::string::npos);
    REQUIRE(what.find("5,7,9") != std::string::npos);
  }
  BenchFlags empty_item({{"efs", "10,,20", "ef values"}});
  REQUIRE_THROWS_AS(empty_item.IntListIn("efs", 1, 1000), FlagError);
  BenchFlags bad({{"k", "ten", "results"}});
  REQUIRE_THROWS_WITH(bad.IntIn("k", 1, 100), Catch::Contains("--k") && Catch::Contains("'ten'"));
}

TEST_CASE("Shared flag tables give a flag the same default everywhere") {
  const std::vector<FlagSpec> joined =
      JoinFlags({ServerFlags(), VectorDataFlags("500"), ReportFlags()});
  BenchFlags flags(joined);
  REQUIRE(flags.Str("server") == "127.0.0.1:50051");
  REQUIRE(flags.Str("nq") == "500");
  REQUIRE(flags.Str("vectors") == "60000");
  REQUIRE(flags.Str("json") == "false");
  std::vector<std::string> names;
  for (const FlagSpec& spec : joined) names.push_back(spec.name);
  std::sort(names.begin(), names.end());
  REQUIRE(std::adjacent_find(names.begin(), names.end()) == names.end());
}

TEST_CASE("SuiteReport keeps tables, notes, values and options as JSON, numbers as numbers") {
  const std::vector<FlagSpec> specs = JoinFlags({{{"efs", "10,20", "ef values"}}, ReportFlags()});
  BenchFlags flags(specs);
  const hartonomous::testing::TempDir dir;
  const std::string path = dir.dir() + "/suite_report.json";
  std::string error;
  REQUIRE(ParseArgs(flags, {"--json-out", path, "--json"}, &error));
  SuiteReport report("test-suite", flags, specs);
  report.Table("Searches:", {"mode", "ef", "queries/s", "recall@10"});
  report.Row({"Search", "10", "1234", "0.9500"});
  report.Row({"BatchSearch", "-", "5e3", "0.99 (vs exact)"});
  REQUIRE_THROWS_AS(report.Row({"too", "few"}), std::logic_error);
  report.Note("- a line");
  report.Value("load_s", 1.5);
  REQUIRE(report.Finish(flags) == 0);

  std::ifstream in(path);
  const nlohmann::json written = nlohmann::json::parse(in);
  REQUIRE(written == report.json());
  REQUIRE(written["suite"] == "test-suite");
  REQUIRE(written["options"]["efs"] == "10,20");
  REQUIRE_FALSE(written["options"].contains("json-out"));
  const auto& table = written["tables"].at(0);
  REQUIRE(table["title"] == "Searches:");
  REQUIRE(table["columns"].size() == 4);
  REQUIRE(table["rows"].size() == 2);
  REQUIRE(table["rows"][0][0] == "Search");
  REQUIRE(table["rows"][0][1].get<double>() == 10);
  REQUIRE(table["rows"][0][3].get<double>() == Approx(0.95));
  REQUIRE(table["rows"][1][1] == "-");
  REQUIRE(table["rows"][1][2].get<double>() == 5000);
  REQUIRE(table["rows"][1][3] == "0.99 (vs exact)");
  REQUIRE(written["notes"] == nlohmann::json::array({"- a line"}));
  REQUIRE(written["values"]["load_s"].get<double>() == 1.5);
}

TEST_CASE("SuiteReport refuses a row before any table") {
  BenchFlags flags(ReportFlags());
  SuiteReport report("test-suite", flags, ReportFlags());
  REQUIRE_THROWS_AS(report.Row({"x"}), std::logic_error);
}

}  // namespace
}  // namespace hartonomous::bench
