#include "server/rpc/interceptors/in_flight.h"

#include <atomic>

namespace hartonomous::rpc {
namespace {

// Lives exactly as long as its call: created when the call starts, destroyed
// when it ends. The call is answered when its status is about to be sent,
// or at its end if it sends none (a cancelled call).
class CountingInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit CountingInterceptor(InFlightCalls* calls) : calls_(calls) { calls_->Enter(); }
  ~CountingInterceptor() override {
    Answer();
    calls_->Leave();
  }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Answer();
    }
    methods->Proceed();
  }

 private:
  void Answer() {
    if (!answered_.exchange(true, std::memory_order_acq_rel)) calls_->Answered();
  }

  InFlightCalls* calls_;
  std::atomic<bool> answered_{false};
};

class CountingFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(InFlightCalls* calls) : calls_(calls) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new CountingInterceptor(calls_);
  }

 private:
  InFlightCalls* calls_;
};

}  // namespace

void InFlightCalls::Enter() {
  unanswered_.fetch_add(1, std::memory_order_relaxed);
  in_flight_.fetch_add(1, std::memory_order_relaxed);
}

void InFlightCalls::Answered() { unanswered_.fetch_sub(1, std::memory_order_relaxed); }

void InFlightCalls::Leave() {
  if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Under the lock: a WaitIdle that saw a count above 0 is waiting by now.
  MutexLock lock(&mu_);
  idle_.SignalAll();
}

bool InFlightCalls::WaitIdle(std::chrono::system_clock::time_point deadline) {
  MutexLock lock(&mu_);
  while (in_flight_.load(std::memory_order_acquire) != 0) {
    if (!idle_.WaitUntil(&mu_, deadline)) return in_flight_.load(std::memory_order_acquire) == 0;
  }
  return true;
}

uint64_t InFlightCalls::count() const { return in_flight_.load(std::memory_order_relaxed); }

uint64_t InFlightCalls::unanswered() const { return unanswered_.load(std::memory_order_relaxed); }

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
InFlightCalls::MakeFactory() {
  return std::make_unique<CountingFactory>(this);
}

}  // namespace hartonomous::rpc
