// health: grpc.health.v1 Check, the bare gRPC round trip on the same
// channels, measured as the reference for every other call's overhead (see
// workload_factory.h).
#include "async_calls.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "workload_factory.h"

namespace hartonomous::bench {
namespace {

class HealthWorkload : public Workload {
 public:
  std::string name() const override { return "health"; }
  grpc::Status Prepare(Client&) override { return grpc::Status::OK; }

  void Start(uint64_t seq, Stubs& stubs, std::unique_ptr<grpc::ClientContext> context,
             CallDone done) override {
    StartUnary<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>(
        std::move(context), grpc::health::v1::HealthCheckRequest(),
        [&stubs](auto* c, auto* q, auto* r, auto cb) { stubs.health->async()->Check(c, q, r, cb); },
        1, std::move(done));
  }

  bool Serialize(uint64_t, std::string* method, std::string* request) const override {
    *method = "/grpc.health.v1.Health/Check";
    return grpc::health::v1::HealthCheckRequest().SerializeToString(request);
  }
};

}  // namespace

std::unique_ptr<Workload> MakeHealthWorkload() { return std::make_unique<HealthWorkload>(); }

}  // namespace hartonomous::bench
