// HealthServiceImpl: the standard grpc.health.v1.Health service (Check and
// Watch) for the whole server ("" service name) and each Hartonomous service
// by its full name. NOT_SERVING while the daemon starts (it listens before
// its indexes are caught up), SERVING from SetServing() on, NOT_SERVING
// again from the moment shutdown begins, so load balancers and clients stop
// sending. A Watch stream sends the current status, then every change, and
// ends after shutdown's NOT_SERVING (or when the client cancels it).
//
// Both methods are callback methods: a Watch stream waiting for a change
// holds no thread (a load balancer's watches cannot exhaust the threads of
// the synchronous server, --max-threads), and Check answers inline.
//
// Thread-safety: thread-safe. The service must outlive every Watch stream:
// destroy it after the server has shut down.
#pragma once

#include <set>
#include <string>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace hartonomous::rpc {

class HealthServiceImpl final : public grpc::health::v1::Health::CallbackService {
 public:
  // services: the names answered besides "" (the server as a whole).
  explicit HealthServiceImpl(std::set<std::string> services) : services_(std::move(services)) {}

  // Start-up is over: every service is SERVING (unless shutdown began).
  void SetServing() EXCLUDES(mu_);
  // Switches every service to NOT_SERVING and ends open Watch streams.
  void Shutdown() EXCLUDES(mu_);

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  class WatchReactor;

  bool Known(const std::string& service) const {
    return service.empty() || services_.count(service) > 0;
  }
  // Sends the current status to every open Watch stream.
  void PublishLocked() REQUIRES(mu_);
  // A Watch stream has ended: it is sent nothing more.
  void Forget(WatchReactor* watch) EXCLUDES(mu_);

  const std::set<std::string> services_;
  Mutex mu_;
  bool serving_ GUARDED_BY(mu_) = false;
  bool shut_down_ GUARDED_BY(mu_) = false;
  std::set<WatchReactor*> watches_ GUARDED_BY(mu_);  // open, not yet done
};

}  // namespace hartonomous::rpc
