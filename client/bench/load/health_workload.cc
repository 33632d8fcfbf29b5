// health: grpc.health.v1 Check, the bare gRPC round trip on the same
// channels, measured as the reference for every other call's overhead (see
// workload_factory.h).
#include "grpc/health/v1/health.grpc.pb.h"
#include "unary_workload.h"
#include "workload_factory.h"

namespace hartonomous::bench {
namespace {

class HealthWorkload : public UnaryWorkload {
 public:
  std::string name() const override { return "health"; }
  std::string Method() const override { return "/grpc.health.v1.Health/Check"; }
  grpc::Status PrepareData(Client&) override { return grpc::Status::OK; }
  size_t Period() const override { return 1; }
  std::string RequestBytes(uint64_t) const override {
    return grpc::health::v1::HealthCheckRequest().SerializeAsString();
  }
};

}  // namespace

std::unique_ptr<Workload> MakeHealthWorkload() { return std::make_unique<HealthWorkload>(); }

}  // namespace hartonomous::bench
