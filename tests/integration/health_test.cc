// grpc.health.v1.Health against a real daemon: Check and Watch for the
// server and each service, SERVICE_UNKNOWN and NOT_FOUND for a name not
// served, Watch streams that hold no thread (ten times --max-threads of
// them, with a document still served), and every Watch told NOT_SERVING and ended when the daemon
// shuts down.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

namespace {

HealthCheckRequest For(const std::string& service) {
  HealthCheckRequest request;
  request.set_service(service);
  return request;
}

struct OpenWatch {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader;
};

}  // namespace

TEST_CASE("health: Check and Watch answer for the server and each service, not for others",
          "[health]") {
  Daemon daemon;
  auto health = Health::NewStub(daemon.client().channel());
  for (const std::string service :
       {"", "hartonomous.v1.AtomService", "hartonomous.v1.SearchService",
        "hartonomous.v1.ModelService", "hartonomous.v1.AdminService",
        "hartonomous.v1.InferenceService"}) {
    INFO(service);
    grpc::ClientContext context;
    HealthCheckResponse checked;
    REQUIRE(health->Check(&context, For(service), &checked).ok());
    CHECK(checked.status() == HealthCheckResponse::SERVING);
    OpenWatch watch;
    watch.reader = health->Watch(&watch.context, For(service));
    HealthCheckResponse first;
    REQUIRE(watch.reader->Read(&first));
    CHECK(first.status() == HealthCheckResponse::SERVING);
    watch.context.TryCancel();
    while (watch.reader->Read(&first)) {
    }
    CHECK(watch.reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
  }
  {
    grpc::ClientContext context;
    HealthCheckResponse checked;
    const grpc::Status status = health->Check(&context, For("no.such.Service"), &checked);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(status.error_message() == "service: unknown service 'no.such.Service'");
  }
  {
    // SERVICE_UNKNOWN, then the stream ends by itself.
    OpenWatch watch;
    watch.reader = health->Watch(&watch.context, For("no.such.Service"));
    std::vector<HealthCheckResponse::ServingStatus> seen;
    HealthCheckResponse response;
    while (watch.reader->Read(&response)) seen.push_back(response.status());
    CHECK(watch.reader->Finish().ok());
    CHECK(seen ==
          std::vector<HealthCheckResponse::ServingStatus>{HealthCheckResponse::SERVICE_UNKNOWN});
  }
}

TEST_CASE("health: Watch streams hold no thread, and shutdown ends each with NOT_SERVING",
          "[health][limits]") {
  constexpr size_t kMaxThreads = 4;
  constexpr size_t kWatches = 10 * kMaxThreads;
  Daemon::Options options;
  options.extra_args = {"--max-threads", std::to_string(kMaxThreads)};
  Daemon daemon(options);
  v1::IngestDocumentResponse document;
  REQUIRE(daemon.client()
              .IngestDocument(DocumentHeader("text"),
                              ReadFile("/usr/share/common-licenses/MPL-2.0"), &document)
              .ok());
  auto health = Health::NewStub(daemon.client().channel());
  // All on one connection (below its --max-concurrent-streams 100), every
  // one open and answered.
  std::vector<std::unique_ptr<OpenWatch>> watches;
  for (size_t i = 0; i < kWatches; ++i) {
    auto watch = std::make_unique<OpenWatch>();
    watch->reader = health->Watch(&watch->context, For(""));
    HealthCheckResponse first;
    REQUIRE(watch->reader->Read(&first));
    CHECK(first.status() == HealthCheckResponse::SERVING);
    watches.push_back(std::move(watch));
  }
  // With ten times --max-threads watches open, a document is served.
  {
    grpc::Status status;
    const std::string content =
        ReadDocumentContent(daemon.client(), document.document_id(), &status);
    INFO(status.error_message());
    CHECK(status.ok());
    CHECK(content == ReadFile("/usr/share/common-licenses/MPL-2.0"));
  }
  // Shutdown: every watch reads NOT_SERVING, then ends OK, and the daemon
  // exits cleanly.
  daemon.Signal(SIGTERM);
  for (auto& watch : watches) {
    std::vector<HealthCheckResponse::ServingStatus> rest;
    HealthCheckResponse response;
    while (watch->reader->Read(&response)) rest.push_back(response.status());
    CHECK(watch->reader->Finish().ok());
    CHECK(rest ==
          std::vector<HealthCheckResponse::ServingStatus>{HealthCheckResponse::NOT_SERVING});
  }
  CHECK(daemon.Wait() == 0);
}
