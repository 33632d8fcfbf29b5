// CallLimit: the bound on calls in progress. With the callback API no
// thread is held per call, so the thread cap of the synchronous server no
// longer bounds the work and the memory the server takes on; this does. A
// call of a wrapped service that arrives while more than max_calls calls
// are in progress (InFlightCalls: from a call's arrival to its last byte
// sent, every service counted) is refused at once, without running, with
//   RESOURCE_EXHAUSTED "server busy: 257 calls in progress, more than
//   --max-concurrent-calls 256 allows; retry later"
// Health is not wrapped: it answers however busy the server is.
// running() counts the admitted calls whose handler is running (a
// synchronous call's whole life, a callback call's body), for metrics.
//
// Thread-safety: thread-safe.
#pragma once

#include <grpcpp/impl/service_type.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "server/rpc/interceptors/in_flight.h"

namespace hartonomous::rpc {

class CallLimit {
 public:
  // REQUIRES: in_flight outlives the limit and every service it wraps;
  // max_calls > 0.
  CallLimit(const InFlightCalls& in_flight, size_t max_calls)
      : in_flight_(in_flight), max_calls_(max_calls) {}

  // `inner` (proto name full_name) with every call checked against the
  // limit; nullptr when no such service is compiled in. Register the result
  // instead of inner. REQUIRES: as WrapService (service_wrapper.h).
  std::unique_ptr<grpc::Service> Wrap(grpc::Service& inner, const std::string& full_name) const;

  size_t max_calls() const { return max_calls_; }
  uint64_t running() const { return running_.load(std::memory_order_relaxed); }

 private:
  friend class LimitedHandler;

  const InFlightCalls& in_flight_;
  const size_t max_calls_;
  mutable std::atomic<uint64_t> running_{0};
};

}  // namespace hartonomous::rpc
