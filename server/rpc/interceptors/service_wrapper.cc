#include "server/rpc/interceptors/service_wrapper.h"

#include <grpcpp/support/method_handler.h>

#include <vector>

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

class WrappedService final : public grpc::Service {
 public:
  WrappedService(grpc::Service& inner, const google::protobuf::ServiceDescriptor& descriptor,
                 const WrappedHandlerFactory& make) {
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
      AddMethod(new grpc::internal::RpcServiceMethod(names_.back().c_str(), type,
                                                     make(*method, HandlerAccess::Get(inner, i))));
    }
  }

 private:
  std::vector<std::string> names_;  // reserved up front: the methods keep c_str()
};

template <grpc::StatusCode kCode>
void SendAs(const MethodHandler::HandlerParameter& param, const std::string& message) {
  grpc::internal::ErrorMethodHandler<kCode>(message).RunHandler(param);
}

}  // namespace

std::unique_ptr<grpc::Service> WrapService(grpc::Service& inner, const std::string& full_name,
                                           const WrappedHandlerFactory& make) {
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(full_name);
  if (descriptor == nullptr) return nullptr;
  return std::make_unique<WrappedService>(inner, *descriptor, make);
}

void SendStatusOnly(const MethodHandler::HandlerParameter& param, const grpc::Status& status) {
  // ErrorMethodHandler takes its code as a template argument: one
  // instantiation per code the wrappers send.
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return SendAs<grpc::StatusCode::UNAVAILABLE>(param, status.error_message());
    case grpc::StatusCode::UNAUTHENTICATED:
      return SendAs<grpc::StatusCode::UNAUTHENTICATED>(param, status.error_message());
    case grpc::StatusCode::PERMISSION_DENIED:
      return SendAs<grpc::StatusCode::PERMISSION_DENIED>(param, status.error_message());
    default:
      return SendAs<grpc::StatusCode::INTERNAL>(param, status.error_message());
  }
}

}  // namespace hartonomous::rpc
