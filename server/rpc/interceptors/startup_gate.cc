#include "server/rpc/interceptors/startup_gate.h"

#include <grpcpp/support/method_handler.h>

#include "server/rpc/interceptors/service_wrapper.h"

namespace hartonomous::rpc {
namespace {

using grpc::internal::MethodHandler;

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
      SendStatusOnly(param, grpc::Status(grpc::StatusCode::UNAVAILABLE, gate_.reason()));
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
  return WrapService(inner, full_name,
                     [this](const google::protobuf::MethodDescriptor& method, MethodHandler* h) {
                       return new GatedHandler(*this, h, !method.client_streaming());
                     });
}

}  // namespace hartonomous::rpc
