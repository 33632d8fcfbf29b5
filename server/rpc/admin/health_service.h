// HealthServiceImpl: the standard grpc.health.v1.Health service (Check and
// Watch) for the whole server ("" service name) and each Hartonomous service
// by its full name. NOT_SERVING while the daemon starts (it listens before
// its indexes are caught up), SERVING from SetServing() on, NOT_SERVING
// again from the moment shutdown begins, so load balancers and clients stop
// sending. A Watch stream sends the current status, then every change, and
// ends after shutdown's NOT_SERVING.
//
// Thread-safety: thread-safe.
#pragma once

#include <set>
#include <string>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace hartonomous::rpc {

class HealthServiceImpl final : public grpc::health::v1::Health::Service {
 public:
  // services: the names answered besides "" (the server as a whole).
  explicit HealthServiceImpl(std::set<std::string> services) : services_(std::move(services)) {}

  // Start-up is over: every service is SERVING (unless shutdown began).
  void SetServing() EXCLUDES(mu_);
  // Switches every service to NOT_SERVING and ends open Watch streams.
  void Shutdown() EXCLUDES(mu_);

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  bool Known(const std::string& service) const {
    return service.empty() || services_.count(service) > 0;
  }

  const std::set<std::string> services_;
  Mutex mu_;
  CondVar changed_;  // signalled when serving_ or shut_down_ changes
  bool serving_ GUARDED_BY(mu_) = false;
  bool shut_down_ GUARDED_BY(mu_) = false;
};

}  // namespace hartonomous::rpc
