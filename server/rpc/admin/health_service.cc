#include "server/rpc/admin/health_service.h"

namespace hartonomous::rpc {

using grpc::health::v1::HealthCheckResponse;

// One Watch stream. At most one write is in flight; a status that arrives
// meanwhile is sent after it (a newer one replaces it: a watcher wants the
// latest status, not every step). The stream finishes after the status sent
// at shutdown, or when the client cancels it or a write fails. Lock order:
// the service's mu_, then the reactor's; the reactor never takes the
// service's lock while holding its own. gRPC runs no reaction inline in
// StartWrite or Finish, so both may be called under the service's lock.
class HealthServiceImpl::WatchReactor final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  explicit WatchReactor(HealthServiceImpl* service) : service_(service) {}

  // The service's status is `status`; last: shutdown began, so the stream
  // ends after sending it.
  void Send(HealthCheckResponse::ServingStatus status, bool last) EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      if (ending_) return;
      next_ = status;
      next_last_ = last;
      pending_ = true;
      if (writing_) return;  // OnWriteDone sends it
      TakeNextLocked();
    }
    StartWrite(&response_);
  }

  // The service asked for is not served here: SERVICE_UNKNOWN, then the end.
  void SendUnknown() EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      ending_ = true;
      response_.set_status(HealthCheckResponse::SERVICE_UNKNOWN);
    }
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

  void OnWriteDone(bool ok) override EXCLUDES(mu_) {
    bool write = false;
    bool finish = false;
    {
      MutexLock lock(&mu_);
      writing_ = false;
      if (!ok || cancelled_ || sent_last_) {
        finish = !ending_;
        ending_ = true;
      } else if (pending_) {
        TakeNextLocked();
        write = true;
      }
    }
    if (write) StartWrite(&response_);
    if (finish) Finish(grpc::Status::OK);
  }

  void OnCancel() override EXCLUDES(mu_) {
    bool finish = false;
    {
      MutexLock lock(&mu_);
      cancelled_ = true;
      if (!writing_ && !ending_) {  // else OnWriteDone finishes
        finish = true;
        ending_ = true;
      }
    }
    if (finish) Finish(grpc::Status::OK);
  }

  void OnDone() override {
    service_->Forget(this);
    delete this;
  }

 private:
  // Moves the pending status into the response about to be written.
  void TakeNextLocked() REQUIRES(mu_) {
    response_.set_status(next_);
    sent_last_ = next_last_;
    pending_ = false;
    writing_ = true;
  }

  HealthServiceImpl* const service_;
  Mutex mu_;
  // Written only while no write is in flight (gRPC reads it during one).
  HealthCheckResponse response_ GUARDED_BY(mu_);
  bool writing_ GUARDED_BY(mu_) = false;    // a write is in flight
  bool pending_ GUARDED_BY(mu_) = false;    // next_ waits to be written
  bool sent_last_ GUARDED_BY(mu_) = false;  // the write in flight is the last
  bool cancelled_ GUARDED_BY(mu_) = false;
  bool ending_ GUARDED_BY(mu_) = false;  // Finish called (or about to be)
  HealthCheckResponse::ServingStatus next_ GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  bool next_last_ GUARDED_BY(mu_) = false;
};

void HealthServiceImpl::SetServing() {
  MutexLock lock(&mu_);
  if (shut_down_) return;
  serving_ = true;
  PublishLocked();
}

void HealthServiceImpl::Shutdown() {
  MutexLock lock(&mu_);
  serving_ = false;
  shut_down_ = true;
  PublishLocked();
}

void HealthServiceImpl::PublishLocked() {
  const auto status = serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  for (WatchReactor* watch : watches_) watch->Send(status, shut_down_);
}

void HealthServiceImpl::Forget(WatchReactor* watch) {
  MutexLock lock(&mu_);
  watches_.erase(watch);
}

grpc::ServerUnaryReactor* HealthServiceImpl::Check(
    grpc::CallbackServerContext* context, const grpc::health::v1::HealthCheckRequest* request,
    HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!Known(request->service())) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                 "service: unknown service '" + request->service() + "'"));
    return reactor;
  }
  {
    MutexLock lock(&mu_);
    response->set_status(serving_ ? HealthCheckResponse::SERVING
                                  : HealthCheckResponse::NOT_SERVING);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthServiceImpl::Watch(
    grpc::CallbackServerContext*, const grpc::health::v1::HealthCheckRequest* request) {
  auto* watch = new WatchReactor(this);
  if (!Known(request->service())) {
    watch->SendUnknown();
    return watch;
  }
  MutexLock lock(&mu_);
  watches_.insert(watch);
  watch->Send(serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING,
              shut_down_);
  return watch;
}

}  // namespace hartonomous::rpc
