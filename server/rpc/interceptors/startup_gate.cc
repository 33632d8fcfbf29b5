#include "server/rpc/interceptors/startup_gate.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>

namespace hartonomous::rpc {
namespace {

using grpc::internal::MethodHandler;
using grpc::internal::RpcMethod;

// The handlers of a generated service, read through grpc::Service's
// protected accessor.
struct HandlerAccess : grpc::Service {
  static MethodHandler* Get(grpc::Service& service, int index) {
    return (service.*&HandlerAccess::GetHandler)(index);
  }
};

// Forwards to the generated handler while the gate is open; answers
// UNAVAILABLE with the gate's reason otherwise. A method with a request
// payload (unary, server streaming) decides when the payload arrives
// (Deserialize): a refused call gets a failed request status, which the
// generated handler sends without calling the method. A client- or
// bidi-streaming method decides when it would start.
class GatedHandler final : public MethodHandler {
 public:
  GatedHandler(const StartupGate& gate, MethodHandler* inner, bool has_payload)
      : gate_(gate), inner_(inner), has_payload_(has_payload) {}

  void RunHandler(const HandlerParameter& param) override {
    if (!has_payload_ && !gate_.open()) {
      grpc::internal::ErrorMethodHandler<grpc::StatusCode::UNAVAILABLE>(gate_.reason())
          .RunHandler(param);
      return;
    }
    inner_->RunHandler(param);
  }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* req, grpc::Status* status,
                    void** handler_data) override {
    if (gate_.open()) return inner_->Deserialize(call, req, status, handler_data);
    if (req != nullptr) grpc::g_core_codegen_interface->grpc_byte_buffer_destroy(req);
    *status = grpc::Status(grpc::StatusCode::UNAVAILABLE, gate_.reason());
    return nullptr;
  }

 private:
  const StartupGate& gate_;
  MethodHandler* const inner_;  // owned by the inner service
  const bool has_payload_;
};

class GatedService final : public grpc::Service {
 public:
  GatedService(const StartupGate& gate, grpc::Service& inner,
               const google::protobuf::ServiceDescriptor& descriptor) {
    // Generated services add their methods in descriptor order.
    names_.reserve(static_cast<size_t>(descriptor.method_count()));
    for (int i = 0; i < descriptor.method_count(); ++i) {
      const auto* method = descriptor.method(i);
      names_.push_back("/" + descriptor.full_name() + "/" + method->name());
      const RpcMethod::RpcType type =
          method->client_streaming()
              ? (method->server_streaming() ? RpcMethod::BIDI_STREAMING
                                            : RpcMethod::CLIENT_STREAMING)
              : (method->server_streaming() ? RpcMethod::SERVER_STREAMING : RpcMethod::NORMAL_RPC);
      const bool has_payload = !method->client_streaming();
      AddMethod(new grpc::internal::RpcServiceMethod(
          names_.back().c_str(), type,
          new GatedHandler(gate, HandlerAccess::Get(inner, i), has_payload)));
    }
  }

 private:
  std::vector<std::string> names_;  // reserved up front: the methods keep c_str()
};

}  // namespace

const char* StartupStateName(StartupGate::State state) {
  switch (state) {
    case StartupGate::State::kStarting:
      return "starting";
    case StartupGate::State::kServing:
      return "serving";
    case StartupGate::State::kStopping:
      return "stopping";
  }
  return "unknown";
}

void StartupGate::SetReason(std::string reason) {
  MutexLock lock(&mu_);
  reason_ = std::move(reason);
}

void StartupGate::Open(uint64_t rows_replayed, uint64_t rows_removed) {
  MutexLock lock(&mu_);
  if (stopping_) return;
  opened_ = true;
  rows_replayed_ = rows_replayed;
  rows_removed_ = rows_removed;
}

void StartupGate::Stop() {
  MutexLock lock(&mu_);
  stopping_ = true;
}

bool StartupGate::open() const {
  MutexLock lock(&mu_);
  return opened_;
}

StartupGate::State StartupGate::state() const {
  MutexLock lock(&mu_);
  if (stopping_) return State::kStopping;
  return opened_ ? State::kServing : State::kStarting;
}

std::string StartupGate::reason() const {
  MutexLock lock(&mu_);
  if (opened_) return "";
  return stopping_ ? "stopping: shut down during start-up" : reason_;
}

uint64_t StartupGate::rows_replayed() const {
  MutexLock lock(&mu_);
  return rows_replayed_;
}

uint64_t StartupGate::rows_removed() const {
  MutexLock lock(&mu_);
  return rows_removed_;
}

std::unique_ptr<grpc::Service> StartupGate::Gate(grpc::Service& inner,
                                                 const std::string& full_name) const {
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(full_name);
  if (descriptor == nullptr) return nullptr;
  return std::make_unique<GatedService>(*this, inner, *descriptor);
}

}  // namespace hartonomous::rpc
