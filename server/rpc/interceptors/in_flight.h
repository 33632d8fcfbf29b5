// InFlightCalls: counts RPCs in progress through a server interceptor, so
// that shutdown can drain them: stop advertising SERVING, wait until no call
// is in flight (bounded), then shut the server down. gRPC's own
// Shutdown(deadline) also waits for idle client connections to close, which
// can take seconds with nothing left to drain.
//
// Thread-safety: thread-safe.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace hartonomous::rpc {

class InFlightCalls {
 public:
  void Enter() EXCLUDES(mu_);
  // The call's status is about to be sent (or it ended without one); once
  // per call, before Leave.
  void Answered();
  void Leave() EXCLUDES(mu_);
  // True once no call is in flight; false if the deadline passed first.
  bool WaitIdle(std::chrono::system_clock::time_point deadline) EXCLUDES(mu_);
  // Lock-free: the call limit reads it on every call (call_limit.h).
  uint64_t count() const;
  // Calls whose status is not being sent yet: a call a client has seen end
  // is not among them (count() may still hold it while gRPC finishes it).
  uint64_t unanswered() const;

  // Register with ServerBuilder::experimental().SetInterceptorCreators().
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeFactory();

 private:
  Mutex mu_;      // orders WaitIdle's check against the last Leave's signal
  CondVar idle_;  // signalled when in_flight_ drops to 0
  std::atomic<uint64_t> in_flight_{0};
  std::atomic<uint64_t> unanswered_{0};
};

}  // namespace hartonomous::rpc
