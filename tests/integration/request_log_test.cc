// The request log: failed calls at warn with method, status, peer, duration
// and request id (JSON fields with --log-format json), the request id sent
// back to the client, slow calls above --slow-request-ms; and invalid
// configuration refused with exit status 2.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "daemon_harness.h"
#include "hartonomous/v1/atom_service.grpc.pb.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

// The log's JSON lines whose msg is `msg`.
std::vector<nlohmann::json> JsonLines(const std::string& log_path, const std::string& msg) {
  std::istringstream lines(ReadFile(log_path));
  std::string line;
  std::vector<nlohmann::json> found;
  while (std::getline(lines, line)) {
    auto json = nlohmann::json::parse(line, nullptr, false);
    REQUIRE_FALSE(json.is_discarded());  // every line is one JSON object
    if (json.value("msg", "") == msg) found.push_back(json);
  }
  return found;
}

}  // namespace

TEST_CASE("failed calls are logged at warn with method, status, peer, duration and request id",
          "[log]") {
  Daemon daemon(Daemon::Options{"", {"--log-format", "json"}});
  auto channel = grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::AtomService::NewStub(channel);
  // With a request id of the client's.
  grpc::ClientContext context;
  context.AddMetadata("x-request-id", "req-from-client-42");
  v1::GetAtomRequest request;
  request.set_atom_id(424242);
  v1::Atom atom;
  const grpc::Status missing = stub->GetAtom(&context, request, &atom);
  REQUIRE(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  const auto echoed = context.GetServerInitialMetadata().find("x-request-id");
  REQUIRE(echoed != context.GetServerInitialMetadata().end());
  CHECK(std::string(echoed->second.data(), echoed->second.size()) == "req-from-client-42");
  // Without one: the server makes one up and sends it back.
  grpc::ClientContext plain;
  v1::Atom none;
  REQUIRE(stub->GetAtom(&plain, request, &none).error_code() == grpc::StatusCode::NOT_FOUND);
  const auto made = plain.GetServerInitialMetadata().find("x-request-id");
  REQUIRE(made != plain.GetServerInitialMetadata().end());
  const std::string made_id(made->second.data(), made->second.size());
  CHECK(made_id.size() == 16);
  // A successful call is not logged.
  v1::IngestAtomResponse ingested;
  REQUIRE(daemon.client().IngestAtom(TextAtom("fine"), &ingested).ok());

  const auto failed = JsonLines(daemon.log_path(), "rpc failed");
  REQUIRE(failed.size() == 2);
  for (const auto& line : failed) {
    CHECK(line["level"] == "warning");
    CHECK(line["method"] == "/hartonomous.v1.AtomService/GetAtom");
    CHECK(line["status"] == "NOT_FOUND");
    CHECK_THAT(line["peer"].get<std::string>(), Catch::StartsWith("ipv4:127.0.0.1:"));
    CHECK(std::stod(line["duration_ms"].get<std::string>()) >= 0);
    CHECK_THAT(line["error"].get<std::string>(), Catch::Contains("424242"));
  }
  CHECK(failed[0]["request_id"] == "req-from-client-42");
  CHECK(failed[1]["request_id"] == made_id);
}

TEST_CASE("calls slower than --slow-request-ms are logged at warn", "[log]") {
  TempDir hold;
  const std::string release = hold.path() + "/release";
  Daemon daemon(
      Daemon::Options{"", {"--slow-request-ms", "1", "--testing-hold-compaction-until", release}});
  // A Compact held until the file exists: released only after it has run
  // on the server for more than 1 ms.
  std::thread compact([&] {
    Client client(ClientOptions{daemon.address()});
    v1::CompactResponse response;
    CHECK(client.Compact(false, &response).ok());
  });
  v1::ServerStats stats;
  do {
    REQUIRE(daemon.client().GetServerStats(&stats).ok());
  } while (!stats.compacting());
  const auto seen = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - seen < std::chrono::milliseconds(5)) {
    std::this_thread::yield();
  }
  std::ofstream(release).put('\n');
  compact.join();
  const std::string log = ReadFile(daemon.log_path());
  CHECK_THAT(log,
             Catch::Contains("slow rpc method=/hartonomous.v1.AdminService/Compact status=OK"));
}

TEST_CASE("invalid configuration names the setting and exits with status 2", "[config]") {
  TempDir dir;
  const std::string conf = dir.path() + "/hartonomousd.conf";
  std::ofstream(conf) << "listen = 127.0.0.1:0\nmax-treads = 4\n";
  const ProcessResult unknown = RunProcess({DaemonPath(), "--config", conf});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains(conf + ":2: max-treads: unknown setting"));
  const ProcessResult port = RunProcess({DaemonPath(), "--listen", "127.0.0.1:65536"});
  CHECK(port.exit_code == 2);
  CHECK_THAT(port.err, Catch::Contains("--listen: expected HOST:PORT"));
  const ProcessResult type = RunProcess(
      {"/usr/bin/env", "HARTONOMOUS_MAX_SEARCH_K=ten", DaemonPath(), "--data-dir", dir.path()});
  CHECK(type.exit_code == 2);
  CHECK_THAT(type.err, Catch::Contains("HARTONOMOUS_MAX_SEARCH_K: expected a byte count"));
  // --print-config: the effective values, the secret masked.
  const ProcessResult printed =
      RunProcess({"/usr/bin/env", "HARTONOMOUS_MAX_THREADS=64", DaemonPath(), "--config", conf,
                  "--print-config", "--metrics-token", "hidden-value"});
  CHECK(printed.exit_code == 2);  // the config file's unknown key still fails
  std::ofstream(conf) << "listen = 127.0.0.1:7777\nmax-threads = 8\n";
  const ProcessResult good =
      RunProcess({"/usr/bin/env", "HARTONOMOUS_MAX_THREADS=64", DaemonPath(), "--config", conf,
                  "--print-config", "--metrics-token", "hidden-value"});
  CHECK(good.exit_code == 0);
  CHECK_THAT(good.out, Catch::Contains("listen = 127.0.0.1:7777"));
  CHECK_THAT(good.out, Catch::Contains("max-threads = 64"));
  CHECK_THAT(good.out, Catch::Contains("metrics-token = ********"));
  CHECK_THAT(good.out, !Catch::Contains("hidden-value"));
}
