#include "server/rpc/interceptors/startup_gate.h"

#include <grpcpp/support/method_handler.h>

#include "server/rpc/interceptors/service_wrapper.h"

namespace hartonomous::rpc {
namespace {

using grpc::internal::MethodHandler;

// Forwards to the generated handler while the gate is open; refuses with
// UNAVAILABLE and the gate's reason otherwise (service_wrapper.h). A
// synchronous method with a request payload (unary, server streaming)
// decides when the payload arrives (Deserialize), so that a refused request
// is not parsed.
class GatedHandler final : public MethodHandler {
 public:
  GatedHandler(const StartupGate& gate, const WrappedMethod& wrapped)
      : gate_(gate), wrapped_(wrapped) {}

  void RunHandler(const HandlerParameter& param) override {
    if (!param.status.ok() || gate_.open()) return wrapped_.inner->RunHandler(param);
    Refuse(wrapped_, param, grpc::Status(grpc::StatusCode::UNAVAILABLE, gate_.reason()));
  }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* req, grpc::Status* status,
                    void** handler_data) override {
    // A callback handler needs its request holder even for a refused call.
    if (wrapped_.callback || gate_.open()) {
      return wrapped_.inner->Deserialize(call, req, status, handler_data);
    }
    if (req != nullptr) grpc::g_core_codegen_interface->grpc_byte_buffer_destroy(req);
    *status = grpc::Status(grpc::StatusCode::UNAVAILABLE, gate_.reason());
    return nullptr;
  }

 private:
  const StartupGate& gate_;
  const WrappedMethod wrapped_;
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
  return WrapService(inner, full_name, [this](const WrappedMethod& wrapped) {
    return new GatedHandler(*this, wrapped);
  });
}

}  // namespace hartonomous::rpc
