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

// The rows of the report's table titled title.
const nlohmann::json& TableRows(const nlohmann::json& report, const std::string& title) {
  for (const auto& table : report["tables"]) {
    if (table["title"] == title) return table["rows"];
  }
  FAIL("no table '" << title << "' in " << report.dump());
  static const nlohmann::json kNone;
  return kNone;
}

TEST_CASE("Bench vector-suite loads the rows, searches them and reports each row in JSON") {
  Daemon daemon;
  BenchRun run = Bench(
      daemon, "vector-suite",
      {"--vectors", "2000", "--nq", "40", "--efs", "20,80", "--clients", "1,2", "--batch-clients",
       "1", "--ref-threads", "1", "--filter-nq", "20", "--exact-nq", "10", "--batch", "500"});
  REQUIRE(run.process.exit_code == 0);
  const auto& r = run.report;
  REQUIRE(r["suite"] == "vector-suite");
  REQUIRE(r["options"]["efs"] == "20,80");
  // References: hnswlib built like the server and -march=native, 1 thread, 2 efs.
  REQUIRE(TableRows(r, "Searches:").size() == 4);
  // Server rows: Search 2 client counts x 2 efs, BatchSearch 1 x 2, the
  // unfiltered and 4 filtered rows, the exact row.
  const auto& rows = TableRows(r, "Searches through hartonomousd:");
  REQUIRE(rows.size() == 4 + 2 + 5 + 1);
  for (const auto& row : rows) {
    REQUIRE(row[0] == "hartonomousd");
    REQUIRE(row[4].get<double>() > 0);  // queries/s
  }
  // The exact search finds the brute-force answer.
  const auto& exact = rows.back();
  REQUIRE(exact[1].get<std::string>().find("Search, exact (10 queries") == 0);
  REQUIRE(exact[7].get<double>() == 1.0);
  // Every load went to the server.
  v1::Collection collection;
  REQUIRE(daemon.client().GetCollection("fmnist", &collection).ok());
  REQUIRE(collection.vector_count() == 2000);
  REQUIRE(CountAtoms(daemon.client()) == 2000);
  REQUIRE(r["values"]["load_s"].get<double>() > 0);
}

TEST_CASE("Bench hybrid-suite compares the server's hybrid query with the in-process one") {
  Daemon daemon;
  BenchRun run = Bench(daemon, "hybrid-suite",
                       {"--vectors", "2000", "--nq", "30", "--clients", "1", "--sample", "500",
                        "--calibrate", "10", "--fractions", "0.05,0.2"});
  REQUIRE(run.process.exit_code == 0);
  const auto& rows = TableRows(run.report, "");
  // Server: exact, HNSW, 2 radii, coarse first, ANN at 2 radii; in-process:
  // scan, hnswlib, 2 radii.
  REQUIRE(rows.size() == 7 + 4);
  REQUIRE(rows[0][1] == "Search, exact scan");
  REQUIRE(rows[0][7].get<double>() == 1.0);
  REQUIRE(rows[7][0] == "in-process");
  REQUIRE(rows[7][7].get<double>() == 1.0);  // brute force is the ground truth
  v1::Collection collection;
  REQUIRE(daemon.client().GetCollection("fmnist", &collection).ok());
  REQUIRE(collection.vector_count() == 2000);
}

TEST_CASE("Bench inference-suite's figures agree with the rows the server keeps") {
  Daemon daemon;
  BenchRun run = Bench(daemon, "inference-suite", {"--rows", "3000", "--clients", "2"});
  REQUIRE(run.process.exit_code == 0);
  const auto& v = run.report["values"];
  REQUIRE(v["rows"] == 3000);
  const uint64_t pruned = v["pruned"].get<uint64_t>();
  REQUIRE(pruned > 0);
  REQUIRE(pruned < 3000);
  // Logged: the rows, 200 baseline writes of 10 and the writes during the prune.
  const uint64_t logged =
      3000 + 200 * 10 + 10 * v["writer_during_prune_calls"].get<uint64_t>() - pruned;
  uint64_t kept = 0;
  REQUIRE(daemon.client()
              .ListInferences({},
                              [&](const v1::Inference&) {
                                ++kept;
                                return true;
                              })
              .ok());
  REQUIRE(kept == logged);
  REQUIRE(v["newest100_p50_ms"].get<double>() > 0);
}

TEST_CASE("Bench spatial-suite checks the R-tree against the scan and reports both") {
  ProcessResult p = RunProcess({HARTONOMOUS_BENCH_PATH, "spatial-suite", "--points", "5000", "--nq",
                                "100", "--runs", "1", "--json"});
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  const nlohmann::json r = nlohmann::json::parse(p.out);
  REQUIRE(TableRows(r, "").size() == 2);
  REQUIRE(r["values"]["mean_hits"].get<double>() > 0);
  REQUIRE(r["values"]["rtree_qps"].get<double>() > 0);
}

TEST_CASE("Bench suites refuse bad flags naming them, with exit status 2") {
  Daemon daemon;
  BenchRun list = Bench(daemon, "vector-suite", {"--efs", "10,x"});
  REQUIRE(list.process.exit_code == 2);
  REQUIRE(list.process.err.find("--efs") != std::string::npos);
  REQUIRE(list.process.err.find("'x'") != std::string::npos);
  BenchRun unknown = Bench(daemon, "hybrid-suite", {"--limit", "10"});
  REQUIRE(unknown.process.exit_code == 2);
  REQUIRE(unknown.process.err.find("unknown flag --limit") != std::string::npos);
  BenchRun excl = Bench(daemon, "vector-suite", {"--filtered-only", "--sq8-compare"});
  REQUIRE(excl.process.exit_code == 2);
  BenchRun dup = Bench(daemon, "ingest", {"--dup-fraction", "1.5"});
  REQUIRE(dup.process.exit_code == 2);
  REQUIRE(dup.process.err.find("--dup-fraction") != std::string::npos);
  // Nothing was written.
  REQUIRE(CountAtoms(daemon.client()) == 0);
}

}  // namespace
}  // namespace hartonomous::testing
