#include "server/rpc/admin/health_service.h"

#include <chrono>

namespace hartonomous::rpc {

using grpc::health::v1::HealthCheckResponse;

void HealthServiceImpl::SetServing() {
  {
    MutexLock lock(&mu_);
    if (shut_down_) return;
    serving_ = true;
  }
  changed_.SignalAll();
}

void HealthServiceImpl::Shutdown() {
  {
    MutexLock lock(&mu_);
    serving_ = false;
    shut_down_ = true;
  }
  changed_.SignalAll();
}

grpc::Status HealthServiceImpl::Check(grpc::ServerContext*,
                                      const grpc::health::v1::HealthCheckRequest* request,
                                      HealthCheckResponse* response) {
  if (!Known(request->service())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "service: unknown service '" + request->service() + "'");
  }
  MutexLock lock(&mu_);
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
  bool serving, shut_down;
  {
    MutexLock lock(&mu_);
    serving = serving_;
    shut_down = shut_down_;
  }
  while (true) {
    response.set_status(serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING);
    if (!writer->Write(response) || shut_down) return grpc::Status::OK;
    MutexLock lock(&mu_);
    // A sync handler learns of a client's cancellation only by asking, so the
    // wait wakes periodically as well as on a status change.
    while (serving_ == serving && shut_down_ == shut_down && !context->IsCancelled()) {
      changed_.WaitUntil(&mu_, std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    }
    if (context->IsCancelled()) return grpc::Status::OK;  // the client went away
    // The status to send next, read under the same hold as the wait.
    serving = serving_;
    shut_down = shut_down_;
  }
}

}  // namespace hartonomous::rpc
