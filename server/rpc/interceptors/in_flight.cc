#include "server/rpc/interceptors/in_flight.h"

namespace hartonomous::rpc {
namespace {

// Lives exactly as long as its call: created when the call starts, destroyed
// when it ends.
class CountingInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit CountingInterceptor(InFlightCalls* calls) : calls_(calls) { calls_->Enter(); }
  ~CountingInterceptor() override { calls_->Leave(); }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  InFlightCalls* calls_;
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
  MutexLock lock(&mu_);
  ++in_flight_;
}

void InFlightCalls::Leave() {
  bool now_idle;
  {
    MutexLock lock(&mu_);
    now_idle = --in_flight_ == 0;
  }
  if (now_idle) idle_.SignalAll();
}

bool InFlightCalls::WaitIdle(std::chrono::system_clock::time_point deadline) {
  MutexLock lock(&mu_);
  while (in_flight_ != 0) {
    if (!idle_.WaitUntil(&mu_, deadline)) return in_flight_ == 0;
  }
  return true;
}

uint64_t InFlightCalls::count() const {
  MutexLock lock(&mu_);
  return in_flight_;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
InFlightCalls::MakeFactory() {
  return std::make_unique<CountingFactory>(this);
}

}  // namespace hartonomous::rpc
