#include "server/rpc/interceptors/rpc_observer.h"

#include <grpcpp/server_context.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

#include "base/grpc_code_name.h"

namespace hartonomous::rpc {
namespace {

constexpr char kRequestIdKey[] = "x-request-id";
constexpr size_t kMaxRequestIdChars = 64;

std::string FreshRequestId() {
  static const uint64_t base = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  static std::atomic<uint64_t> next{0};
  // A counter mixed by an odd multiplier: distinct within a run, and runs
  // differ by their random base.
  const uint64_t id = base + next.fetch_add(1) * 0x9E3779B97F4A7C15ull;
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

bool UsableRequestId(const std::string& id) {
  if (id.empty() || id.size() > kMaxRequestIdChars) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Lives exactly as long as its call.
class ObservingInterceptor final : public grpc::experimental::Interceptor {
 public:
  ObservingInterceptor(grpc::experimental::ServerRpcInfo* info, const CallObserver* observer)
      : info_(info), observer_(observer), began_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      if (auto* metadata = methods->GetRecvInitialMetadata(); metadata != nullptr) {
        auto it = metadata->find(kRequestIdKey);
        if (it != metadata->end()) {
          std::string id(it->second.data(), it->second.size());
          if (UsableRequestId(id)) request_id_ = std::move(id);
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      if (auto* metadata = methods->GetSendInitialMetadata(); metadata != nullptr) {
        metadata->emplace(kRequestIdKey, RequestId());
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      FinishedCall call;
      call.method = info_->method();
      call.code = static_cast<int>(status.error_code());
      const char* name = GrpcCodeName(call.code);
      call.code_name = name != nullptr ? name : "UNKNOWN";
      call.message = status.error_message();
      if (info_->server_context() != nullptr) call.peer = info_->server_context()->peer();
      call.request_id = RequestId();
      call.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
      (*observer_)(call);
    }
    methods->Proceed();
  }

 private:
  const std::string& RequestId() {
    if (request_id_.empty()) request_id_ = FreshRequestId();
    return request_id_;
  }

  grpc::experimental::ServerRpcInfo* info_;
  const CallObserver* observer_;
  const std::chrono::steady_clock::time_point began_;
  std::string request_id_;
};

class ObservingFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ObservingFactory(const CallObserver* observer) : observer_(observer) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ObservingInterceptor(info, observer_);
  }

 private:
  const CallObserver* observer_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcObserverFactory(
    const CallObserver* observer) {
  return std::make_unique<ObservingFactory>(observer);
}

}  // namespace hartonomous::rpc
