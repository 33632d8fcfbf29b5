// /metrics on the daemon's metrics port: counts after known traffic, the
// exposition accepted by promtool, and a real Prometheus server scraping it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "daemon_harness.h"
#include "metrics_util.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

const std::vector<std::string> kMetricsArgs = {"--metrics-listen", "127.0.0.1:0"};

std::string Rpc(const std::string& method, const std::string& code) {
  return "{method=\"" + method + "\",code=\"" + code + "\"}";
}

// Known traffic: 3 ingests of one content, 2 found and 4 missing atoms, a
// collection with 5 vectors. Returns the content's size.
size_t KnownTraffic(Client& client) {
  const std::string content = "the same sentence, ingested three times";
  uint64_t id = 0;
  for (int i = 0; i < 3; ++i) {
    v1::IngestAtomResponse response;
    REQUIRE(client.IngestAtom(TextAtom(content), &response).ok());
    id = response.atom_id();
  }
  for (int i = 0; i < 2; ++i) {
    v1::Atom atom;
    REQUIRE(client.GetAtom(id, false, &atom).ok());
  }
  for (int i = 0; i < 4; ++i) {
    v1::Atom atom;
    REQUIRE(client.GetAtom(id + 1000 + i, false, &atom).error_code() ==
            grpc::StatusCode::NOT_FOUND);
  }
  v1::CreateCollectionRequest create;
  create.set_name("metrics-vectors");
  create.mutable_spec()->set_embedding_type("text");
  create.mutable_spec()->set_dimension(4);
  create.mutable_spec()->set_metric(v1::METRIC_L2);
  v1::Collection collection;
  REQUIRE(client.CreateCollection(create, &collection).ok());
  std::vector<v1::EmbeddingInput> inputs;
  for (int i = 0; i < 5; ++i) {
    v1::IngestAtomResponse atom;
    REQUIRE(client.IngestAtom(TextAtom("vector atom " + std::to_string(i)), &atom).ok());
    v1::EmbeddingInput input;
    input.set_atom_id(atom.atom_id());
    for (int d = 0; d < 4; ++d) input.add_vector(static_cast<float>(i * 4 + d));
    inputs.push_back(input);
  }
  v1::AddEmbeddingsResponse added;
  REQUIRE(client.AddEmbeddings("metrics-vectors", nullptr, inputs, &added).ok());
  return content.size();
}

// A port that was free a moment ago (Prometheus takes no port 0).
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("metrics count known traffic by method and status code", "[metrics]") {
  Daemon daemon(Daemon::Options{"", kMetricsArgs});
  Client& client = daemon.client();
  const size_t content_bytes = KnownTraffic(client);
  const HttpReply reply = HttpGet(MetricsAddress(daemon), "/metrics");
  REQUIRE(reply.status == 200);
  CHECK_THAT(reply.content_type, Catch::StartsWith("text/plain; version=0.0.4"));
  const std::string& text = reply.body;
  const std::string get = "/hartonomous.v1.AtomService/GetAtom";
  const std::string ingest = "/hartonomous.v1.AtomService/IngestAtom";
  CHECK(SampleValue(text, "hartonomous_rpc_requests_total" + Rpc(get, "OK")) == 2);
  CHECK(SampleValue(text, "hartonomous_rpc_requests_total" + Rpc(get, "NOT_FOUND")) == 4);
  CHECK(SampleValue(text, "hartonomous_rpc_requests_total" + Rpc(ingest, "OK")) == 8);
  CHECK(SampleValue(text, "hartonomous_rpc_duration_seconds_count" + Rpc(get, "NOT_FOUND")) == 4);
  CHECK(SampleValue(text, "hartonomous_rpc_duration_seconds_bucket{method=\"" + get +
                              "\",code=\"NOT_FOUND\",le=\"+Inf\"}") == 4);
  // Every group commit is in the histogram, and their requests add up.
  const auto commits = SampleValue(text, "hartonomous_group_commits_total");
  REQUIRE(commits.has_value());
  CHECK(*commits >= 1);
  CHECK(SampleValue(text, "hartonomous_group_commit_requests_count") == commits);
  CHECK(SampleValue(text, "hartonomous_group_commit_duration_seconds_count") == commits);
  CHECK(SampleValue(text, "hartonomous_group_commit_requests_sum") ==
        SampleValue(text, "hartonomous_write_requests_total"));
  // State: the collection, dedup and LMDB as GetServerStats sees them.
  CHECK(SampleValue(text, "hartonomous_collection_vectors{collection=\"metrics-vectors\"}") == 5);
  CHECK(SampleValue(text, "hartonomous_collection_memory_bytes{collection=\"metrics-vectors\"}") >
        0);
  CHECK(SampleValue(text, "hartonomous_atoms{modality=\"text\"}") == 6);
  CHECK(SampleValue(text, "hartonomous_atom_references{modality=\"text\"}") == 8);
  CHECK(SampleValue(text, "hartonomous_dedup_saved_bytes") == 2.0 * content_bytes);
  CHECK(SampleValue(text, "hartonomous_model_bytes{kind=\"stored\"}") == 0);
  v1::ServerStats stats;
  REQUIRE(client.GetServerStats(&stats).ok());
  CHECK(SampleValue(text, "hartonomous_lmdb_map_size_bytes") ==
        static_cast<double>(stats.map_size_bytes()));
  CHECK(SampleValue(text, "hartonomous_lmdb_used_bytes") > 0);
  CHECK(SampleValue(text, "hartonomous_table_entries{table=\"atoms\"}") == 6);
  // The serving path's gauges: no long call ran; the work pool's items.
  CHECK(SampleValue(text, "hartonomous_long_calls_running") == 0);
  CHECK(SampleValue(text, "hartonomous_work_pool_items{state=\"queued\"}").has_value());
  CHECK(SampleValue(text, "hartonomous_work_pool_items{state=\"running\"}").has_value());
  CHECK(SampleValue(text, "hartonomous_calls_in_progress").has_value());
  // Only GET of the two routes.
  CHECK(HttpGet(MetricsAddress(daemon), "/nope").status == 404);
}

TEST_CASE("promtool accepts the metrics exposition", "[metrics]") {
  Daemon daemon(Daemon::Options{"", kMetricsArgs});
  KnownTraffic(daemon.client());
  const std::string text = HttpGet(MetricsAddress(daemon), "/metrics").body;
  const ProcessResult checked = RunProcess({"/usr/bin/promtool", "check", "metrics"}, text);
  INFO(checked.out << checked.err);
  CHECK(checked.exit_code == 0);
}

TEST_CASE("a real Prometheus server scrapes the daemon and answers PromQL", "[metrics]") {
  Daemon daemon(Daemon::Options{"", kMetricsArgs});
  KnownTraffic(daemon.client());
  TempDir dir;
  const std::string config = dir.path() + "/prometheus.yml";
  {
    std::ofstream out(config);
    out << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        << "scrape_configs:\n  - job_name: hartonomous\n    static_configs:\n"
        << "      - targets: ['" << MetricsAddress(daemon) << "']\n";
  }
  const std::string web = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  const pid_t prometheus = fork();
  REQUIRE(prometheus >= 0);
  if (prometheus == 0) {
    const std::string log = dir.path() + "/prometheus.log";
    FILE* out = std::freopen(log.c_str(), "w", stderr);
    (void)out;
    execl("/usr/bin/prometheus", "prometheus", ("--config.file=" + config).c_str(),
          ("--storage.tsdb.path=" + dir.path() + "/tsdb").c_str(),
          ("--web.listen-address=" + web).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid <= 0) return;
      kill(pid, SIGTERM);
      int status;
      waitpid(pid, &status, 0);
    }
  } reaper{prometheus};
  // Prometheus answers once it has scraped the daemon (1 s interval); the
  // wait is bounded.
  const std::string query =
      "/api/v1/query?query=sum(hartonomous_rpc_requests_total%7Bcode%3D%22NOT_FOUND%22%7D)";
  double value = -1;
  std::string last;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(prometheus, &status, WNOHANG) == prometheus) {
      reaper.pid = -1;
      FAIL("prometheus exited: " << ReadFile(dir.path() + "/prometheus.log"));
    }
    try {
      const HttpReply reply = HttpGet(web, query);
      last = reply.body;
      const auto json = nlohmann::json::parse(reply.body);
      if (json["status"] == "success" && !json["data"]["result"].empty()) {
        value = std::stod(json["data"]["result"][0]["value"][1].get<std::string>());
        break;
      }
    } catch (const std::exception&) {
      // not listening yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  INFO(last);
  CHECK(value == 4);
}
