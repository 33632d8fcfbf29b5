// InFlightCalls: counts RPCs in progress through a server interceptor, so
// that shutdown can drain them: stop advertising SERVING, wait until no call
// is in flight (bounded), then shut the server down. gRPC's own
// Shutdown(deadline) also waits for idle client connections to close, which
// can take seconds with nothing left to drain.
//
// Thread-safety: thread-safe.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

namespace hartonomous::rpc {

class InFlightCalls {
 public:
  void Enter();
  void Leave();
  // True once no call is in flight; false if the deadline passed first.
  bool WaitIdle(std::chrono::system_clock::time_point deadline);
  uint64_t count() const;

  // Register with ServerBuilder::experimental().SetInterceptorCreators().
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeFactory();

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_;
  uint64_t in_flight_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace hartonomous::rpc
