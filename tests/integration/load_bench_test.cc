// hartonomous-bench against a real hartonomousd: its JSON report's counts
// and status codes agree with what the server stored.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_util.h"
#include "daemon_harness.h"
#include "test_util.h"

namespace hartonomous::testing {
namespace {

const char* const kLicenses = "/usr/share/common-licenses";

// Runs hartonomous-bench WORKLOAD --server ADDR args... --json-out FILE and
// returns (exit code, parsed report or null).
struct BenchRun {
  ProcessResult process;
  nlohmann::json report;
};

BenchRun Bench(const Daemon& daemon, const std::string& workload, std::vector<std::string> args) {
  TempDir dir;
  const std::string out = dir.path() + "/report.json";
  std::vector<std::string> argv = {HARTONOMOUS_BENCH_PATH, workload,     "--server",
                                   daemon.address(),       "--json-out", out};
  argv.insert(argv.end(), args.begin(), args.end());
  BenchRun run;
  run.process = RunProcess(argv);
  INFO("stdout: " << run.process.out << "\nstderr: " << run.process.err);
  if (std::filesystem::exists(out)) run.report = nlohmann::json::parse(ReadFile(out));
  return run;
}

uint64_t CountAtoms(Client& client) {
  uint64_t n = 0;
  v1::ListAtomsRequest request;
  request.set_page_size(1000);
  REQUIRE(client
              .ListAtoms(request,
                         [&](const v1::Atom&) {
                           ++n;
                           return true;
                         })
              .ok());
  return n;
}

TEST_CASE("Bench get-atom reports every call and every call succeeded") {
  Daemon daemon;
  BenchRun run = Bench(daemon, "get-atom",
                       {"--requests", "300", "--concurrency", "8", "--channels", "2",
                        "--prepare-atoms", "50", "--text-dir", kLicenses});
  INFO(run.process.err);
  REQUIRE(run.process.exit_code == 0);
  const auto& r = run.report;
  REQUIRE(r["sent"] == 300);
  REQUIRE(r["completed"] == 300);
  REQUIRE(r["calls"] == 300);
  REQUIRE(r["ok"] == 300);
  REQUIRE(r["errors"].empty());
  const auto& l = r["latency_us"];
  REQUIRE(l["min"].get<double>() > 0);
  REQUIRE(l["p50"].get<double>() <= l["p99"].get<double>());
  REQUIRE(l["p99"].get<double>() <= l["max"].get<double>());
  uint64_t in_histogram = 0;
  for (const auto& bucket : r["histogram_ns"]) in_histogram += bucket[1].get<uint64_t>();
  REQUIRE(in_histogram == 300);
  // Prepare stored the 50 atoms the calls read.
  REQUIRE(CountAtoms(daemon.client()) == 50);
}

TEST_CASE("Bench ingest-atoms stores exactly the atoms it reports") {
  Daemon daemon;
  BenchRun run = Bench(daemon, "ingest-atoms",
                       {"--requests", "20", "--concurrency", "4", "--atoms-per-call", "10",
                        "--atom-bytes", "256", "--text-dir", kLicenses, "--rate", "2000"});
  INFO(run.process.err);
  REQUIRE(run.process.exit_code == 0);
  REQUIRE(run.report["ok"] == 20);
  REQUIRE(run.report["items"] == 200);
  REQUIRE(CountAtoms(daemon.client()) == 200);
  REQUIRE(run.report["options"]["rate"] == 2000.0);
}

TEST_CASE("Bench ingest-atom stores one atom per call, then references them again") {
  Daemon daemon;
  BenchRun run = Bench(daemon, "ingest-atom",
                       {"--requests", "300", "--concurrency", "16", "--prepare-atoms", "200",
                        "--atom-bytes", "128", "--text-dir", kLicenses});
  INFO(run.process.err);
  REQUIRE(run.process.exit_code == 0);
  REQUIRE(run.report["ok"] == 300);
  REQUIRE(run.report["errors"].empty());
  // 200 distinct contents; calls 200..299 repeat the first 100.
  REQUIRE(CountAtoms(daemon.client()) == 200);
  v1::GetDedupStatsRequest request;
  v1::DedupStats stats;
  grpc::ClientContext context;
  REQUIRE(daemon.client().atoms().GetDedupStats(&context, request, &stats).ok());
  CHECK(stats.total().unique_atoms() == 200);
  CHECK(stats.total().total_references() == 300);
}

TEST_CASE("Bench counts failed calls by status code and fails on request") {
  Daemon daemon;
  BenchRun run = Bench(daemon, "search",
                       {"--no-prepare", "--collection", "missing", "--requests", "40",
                        "--concurrency", "4", "--nq", "5", "--fail-on-error"});
  REQUIRE(run.process.exit_code == 3);
  REQUIRE(run.report["calls"] == 40);
  REQUIRE(run.report["ok"] == 0);
  REQUIRE(run.report["errors"]["NOT_FOUND"] == 40);
  REQUIRE(run.report["first_error_messages"]["NOT_FOUND"].get<std::string>().find("missing") !=
          std::string::npos);
  // The server keeps serving.
  REQUIRE(daemon.client().WaitUntilServing(std::chrono::seconds(10)).ok());
}

TEST_CASE("Bench mixed workload splits calls by weight and each lands on the server") {
  Daemon daemon;
  BenchRun run = Bench(daemon, "mixed",
                       {"--mix", "search=3,log-inference=1", "--requests", "200", "--concurrency",
                        "8", "--vectors", "300", "--nq", "20", "--collection", "mixed-fm",
                        "--text-dir", kLicenses, "--interval-s", "60"});
  INFO(run.process.err);
  REQUIRE(run.process.exit_code == 0);
  REQUIRE(run.report["ok"] == 200);
  REQUIRE(run.report["workloads"]["search"]["calls"] == 150);
  REQUIRE(run.report["workloads"]["log-inference"]["calls"] == 50);
  uint64_t logged = 0;
  REQUIRE(daemon.client()
              .ListInferences({},
                              [&](const v1::Inference&) {
                                ++logged;
                                return true;
                              })
              .ok());
  REQUIRE(logged == 50);
  v1::Collection collection;
  REQUIRE(daemon.client().GetCollection("mixed-fm", &collection).ok());
  REQUIRE(collection.vector_count() == 300);
}

TEST_CASE("Bench refuses bad flags naming them, with exit status 2") {
  Daemon daemon;
  BenchRun bad = Bench(daemon, "search", {"--concurrency", "0"});
  REQUIRE(bad.process.exit_code == 2);
  REQUIRE(bad.process.err.find("--concurrency") != std::string::npos);
  BenchRun unknown = Bench(daemon, "serach", {});
  REQUIRE(unknown.process.exit_code == 2);
  REQUIRE(unknown.process.err.find("unknown workload") != std::string::npos);
  BenchRun mix = Bench(daemon, "mixed", {"--mix", "search=0"});
  REQUIRE(mix.process.exit_code == 2);
  REQUIRE(mix.process.err.find("weight") != std::string::npos);
}

}  // namespace
}  // namespace hartonomous::testing
