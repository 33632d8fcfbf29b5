#include "server/rpc/admin/health_service.h"

#include <chrono>

namespace hartonomous::rpc {

using grpc::health::v1::HealthCheckResponse;

void HealthServiceImpl::SetServing() {
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return;
    serving_ = true;
  }
  changed_.notify_all();
}

void HealthServiceImpl::Shutdown() {
  {
    std::lock_guard lock(mu_);
    serving_ = false;
    shut_down_ = true;
  }
  changed_.notify_all();
}

grpc::Status HealthServiceImpl::Check(grpc::ServerContext*,
                                      const grpc::health::v1::HealthCheckRequest* request,
                                      HealthCheckResponse* response) {
  if (!Known(request->service())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "service: unknown service '" + request->service() + "'");
  }
  std::lock_guard lock(mu_);
  response->set_status(serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING);
  return grpc::Status::OK;
}

grpc::Status HealthServiceImpl::Watch(grpc::ServerContext* context,
                                      const grpc::health::v1::HealthCheckRequest* request,
                                      grpc::ServerWriter<HealthCheckResponse>* writer) {
  HealthCheckResponse response;
  if (!Known(request->service())) {
    response.set_status(HealthCheckResponse::SERVICE_UNKNOWN);
    writer->Write(response);
    return grpc::Status::OK;
  }
  std::unique_lock lock(mu_);
  while (true) {
    const bool serving = serving_;
    const bool shut_down = shut_down_;
    lock.unlock();
    response.set_status(serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING);
    if (!writer->Write(response) || shut_down) return grpc::Status::OK;
    lock.lock();
    // A sync handler learns of a client's cancellation only by asking, so the
    // wait wakes periodically as well as on a status change.
    while (serving_ == serving && shut_down_ == shut_down && !context->IsCancelled()) {
      changed_.wait_for(lock, std::chrono::milliseconds(200));
    }
    if (context->IsCancelled()) return grpc::Status::OK;  // the client went away
  }
}

}  // namespace hartonomous::rpc
