// StartupGate: the daemon's readiness during start-up. hartonomousd listens
// before it has caught its vector indexes up with LMDB; until then the gate
// is closed and every call of a gated service is answered UNAVAILABLE with
// the reason (e.g. "starting: replaying collection 'x': 4096 of 12000
// vectors") without reaching its handler, so nothing touches a half-built
// index. Health and AdminService.GetStats are not gated: they report the
// state.
//
// Gating is one mechanism for every method of a service: Gate() wraps a
// service's method handlers (service_wrapper.h).
//
// Thread-safety: thread-safe.
#pragma once

#include <grpcpp/impl/service_type.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace hartonomous::rpc {

class StartupGate {
 public:
  enum class State { kStarting, kServing, kStopping };

  // Starts closed, in kStarting, with reason "starting".
  StartupGate() = default;

  // While starting: the reason reported by gated calls and GetStats.
  void SetReason(std::string reason);
  // Opens the gate; rows_replayed / rows_removed: what the start-up's
  // catch-up did (reported by GetStats). No-op once stopping.
  void Open(uint64_t rows_replayed, uint64_t rows_removed);
  // Shutdown began. A gate that never opened stays closed for good (its
  // reason says so); an open gate stays open, so that the drain proceeds
  // as before.
  void Stop();

  State state() const;
  // True once Open was called (before any Stop).
  bool open() const;
  // While closed: "starting: ..." or, once stopping, why; "" when open.
  std::string reason() const;
  uint64_t rows_replayed() const;
  uint64_t rows_removed() const;

  // A service whose every method is answered UNAVAILABLE with reason()
  // while the gate is not open and is handled by `inner` otherwise. Register
  // the returned service instead of inner. REQUIRES: inner is as
  // WrapService requires (service_wrapper.h), full_name is its proto
  // service name, and inner and the gate outlive the result.
  std::unique_ptr<grpc::Service> Gate(grpc::Service& inner, const std::string& full_name) const;

 private:
  mutable Mutex mu_;
  bool opened_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::string reason_ GUARDED_BY(mu_) = "starting";
  uint64_t rows_replayed_ GUARDED_BY(mu_) = 0;
  uint64_t rows_removed_ GUARDED_BY(mu_) = 0;
};

const char* StartupStateName(StartupGate::State state);

}  // namespace hartonomous::rpc
