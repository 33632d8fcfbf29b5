#include "server/daemon.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "hartonomous/v1/admin_service.grpc.pb.h"
#include "tests/unit/temp_dir.h"

using namespace hartonomous;

namespace {

DaemonConfig TestConfig(const std::string& data_dir, const std::string& listen = "127.0.0.1:0") {
  DaemonConfig config;
  config.data_dir = data_dir;
  config.listen = listen;
  config.initial_map_bytes = size_t{64} << 20;
  return config;
}

std::unique_ptr<Daemon> Started(const DaemonConfig& config) {
  auto daemon = Daemon::Start(config);
  INFO(daemon.status().ToString());
  REQUIRE(daemon.ok());
  return std::move(daemon).value();
}

}  // namespace

TEST_CASE("Start listens on a bound port and holds the data dir until the daemon is gone",
          "[daemon]") {
  testing::TempDir dir;
  std::unique_ptr<Daemon> first = Started(TestConfig(dir.dir()));
  CHECK(first->port() > 0);
  CHECK(first->address() == "127.0.0.1:" + std::to_string(first->port()));

  auto second = Daemon::Start(TestConfig(dir.dir()));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == Status::Code::kFailedPrecondition);
  CHECK(second.status().message() ==
        "--data-dir " + dir.dir() + ": in use by another hartonomousd (pid " +
            std::to_string(::getpid()) + "); stop it or choose another data dir");

  // A stop requested before Run: Run drains, stops and returns 0.
  first->RequestStop();
  first->RequestStop();  // idempotent
  CHECK(first->Run() == 0);
  first.reset();

  std::unique_ptr<Daemon> again = Started(TestConfig(dir.dir()));
  again->RequestStop();
  CHECK(again->Run() == 0);
}

TEST_CASE("a Start that cannot listen releases what it had built", "[daemon]") {
  testing::TempDir taken, other;
  std::unique_ptr<Daemon> listening = Started(TestConfig(taken.dir()));

  auto refused = Daemon::Start(TestConfig(other.dir(), listening->address()));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Status::Code::kUnavailable);
  CHECK(refused.status().message() ==
        "--listen " + listening->address() + ": cannot listen there (address in use or invalid)");

  // The data dir of the failed Start is free again; a daemon that never ran
  // stops in its destructor and frees it too.
  Started(TestConfig(other.dir())).reset();
  CHECK(Daemon::Start(TestConfig(other.dir())).ok());

  listening->RequestStop();
  CHECK(listening->Run() == 0);
}

TEST_CASE("Start without a listen address serves only through the in-process channel", "[daemon]") {
  testing::TempDir dir;
  std::unique_ptr<Daemon> daemon = Started(TestConfig(dir.dir(), ""));
  CHECK(daemon->port() == 0);
  CHECK(daemon->address().empty());
  std::thread runner([&] { CHECK(daemon->Run() == 0); });
  const auto channel = daemon->InProcessChannel();

  // Health reports SERVING once the catch-up is over (a Watch waits for it).
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext watch_context;
  watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  grpc::health::v1::HealthCheckRequest watch_request;
  auto watch = health->Watch(&watch_context, watch_request);
  grpc::health::v1::HealthCheckResponse health_response;
  bool serving = false;
  while (!serving && watch->Read(&health_response)) {
    serving = health_response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  }
  REQUIRE(serving);
  watch_context.TryCancel();
  watch->Finish();

  // A call runs the real handler: the stats of this data dir.
  auto admin = v1::AdminService::NewStub(channel);
  grpc::ClientContext context;
  v1::ServerStats stats;
  const grpc::Status status = admin->GetStats(&context, v1::GetStatsRequest(), &stats);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(stats.state() == "serving");

  daemon->RequestStop();
  runner.join();
  daemon.reset();
}
