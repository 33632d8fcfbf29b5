#include "server/rpc/interceptors/call_limit.h"

#include <grpcpp/support/method_handler.h>

#include "server/rpc/interceptors/service_wrapper.h"

namespace hartonomous::rpc {

using grpc::internal::MethodHandler;

class LimitedHandler final : public MethodHandler {
 public:
  LimitedHandler(const CallLimit& limit, const WrappedMethod& wrapped)
      : limit_(limit), wrapped_(wrapped) {}

  void RunHandler(const HandlerParameter& param) override {
    // This call is among those counted.
    const uint64_t in_progress = limit_.in_flight_.count();
    if (param.status.ok() && in_progress > limit_.max_calls_) {
      return Refuse(wrapped_, param,
                    grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "server busy: " + std::to_string(in_progress) +
                                     " calls in progress, more than --max-concurrent-calls " +
                                     std::to_string(limit_.max_calls_) + " allows; retry later"));
    }
    limit_.running_.fetch_add(1, std::memory_order_relaxed);
    wrapped_.inner->RunHandler(param);
    limit_.running_.fetch_sub(1, std::memory_order_relaxed);
  }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* req, grpc::Status* status,
                    void** handler_data) override {
    return wrapped_.inner->Deserialize(call, req, status, handler_data);
  }

 private:
  const CallLimit& limit_;
  const WrappedMethod wrapped_;
};

std::unique_ptr<grpc::Service> CallLimit::Wrap(grpc::Service& inner,
                                               const std::string& full_name) const {
  return WrapService(inner, full_name, [this](const WrappedMethod& wrapped) {
    return new LimitedHandler(*this, wrapped);
  });
}

}  // namespace hartonomous::rpc
