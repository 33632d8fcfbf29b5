#include "health.h"

#include <grpcpp/grpcpp.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "json_output.h"

namespace hartonomous::cli {
namespace {

using grpc::health::v1::HealthCheckResponse;

const char* ServingStatusName(HealthCheckResponse::ServingStatus status) {
  switch (status) {
    case HealthCheckResponse::SERVING:
      return "SERVING";
    case HealthCheckResponse::NOT_SERVING:
      return "NOT_SERVING";
    case HealthCheckResponse::SERVICE_UNKNOWN:
      return "SERVICE_UNKNOWN";
    default:
      return "UNKNOWN";
  }
}

}  // namespace

std::vector<OptionSpec> HealthOptions() {
  return {{"service", 0, "NAME",
           "one service, e.g. hartonomous.v1.AtomService (default: the whole server)"},
          {"wait", 0, "", "wait (up to --timeout) until the server is SERVING"}};
}

void RunHealth(const Invocation& invocation) {
  const ClientOptions options = MakeClientOptions(invocation.global);
  Client client(options);
  if (invocation.Has("wait")) {
    (void)client.WaitUntilServing(options.timeout);
  }
  auto channel = CreateClientChannel(options);
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options.timeout);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(invocation.Get("service"));
  HealthCheckResponse response;
  Check(stub->Check(&context, request, &response));
  const std::string status = ServingStatusName(response.status());
  // While it starts, the server says what it is doing (GetStats is not gated).
  std::string reason;
  if (response.status() != HealthCheckResponse::SERVING) {
    v1::ServerStats stats;
    if (client.GetServerStats(&stats).ok()) reason = stats.state_reason();
  }
  if (invocation.global.json) {
    nlohmann::ordered_json json;
    json["status"] = status;
    json["reason"] = reason;
    PrintJson(std::cout, json);
  } else {
    std::cout << status << (reason.empty() ? "" : ": " + reason) << "\n";
  }
  if (response.status() != HealthCheckResponse::SERVING) {
    throw Failure("server " + options.target + " is " + status +
                  (reason.empty() ? "" : " (" + reason + ")"));
  }
}

}  // namespace hartonomous::cli
