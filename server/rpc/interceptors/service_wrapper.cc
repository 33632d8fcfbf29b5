#include "server/rpc/interceptors/service_wrapper.h"

#include <google/protobuf/message.h>
#include <grpcpp/support/method_handler.h>

#include <cstdlib>
#include <string_view>
#include <vector>

#include "server/rpc/common/unary_callback.h"

namespace hartonomous::rpc {
namespace {

using grpc::internal::MethodHandler;
using grpc::internal::RpcMethod;
using grpc::internal::RpcServiceMethod;

// Binary metadata (any bytes): "<code>:<message>".
constexpr char kRefusalKey[] = "x-hartonomous-refusal-bin";

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
    const auto* wrapped_inner = dynamic_cast<const WrappedService*>(&inner);
    // Generated services add their methods in descriptor order.
    names_.reserve(static_cast<size_t>(descriptor.method_count()));
    for (int i = 0; i < descriptor.method_count(); ++i) {
      const auto* method = descriptor.method(i);
      names_.push_back("/" + descriptor.full_name() + "/" + method->name());
      MethodHandler* handler = HandlerAccess::Get(inner, i);
      const bool callback = wrapped_inner != nullptr
                                ? wrapped_inner->callback_[static_cast<size_t>(i)]
                                : dynamic_cast<const CallbackMethodHandler*>(handler) != nullptr;
      callback_.push_back(callback);
      const RpcMethod::RpcType type =
          method->client_streaming()
              ? (method->server_streaming() ? RpcMethod::BIDI_STREAMING
                                            : RpcMethod::CLIENT_STREAMING)
              : (method->server_streaming() ? RpcMethod::SERVER_STREAMING : RpcMethod::NORMAL_RPC);
      auto* served = new RpcServiceMethod(
          names_.back().c_str(), type,
          make(WrappedMethod{*method, handler, callback, !method->client_streaming()}));
      if (callback) served->SetServerApiType(RpcServiceMethod::ApiType::CALL_BACK);
      AddMethod(served);
    }
  }

 private:
  std::vector<std::string> names_;  // reserved up front: the methods keep c_str()
  std::vector<bool> callback_;      // by method index
};

template <grpc::StatusCode kCode>
void SendAs(const MethodHandler::HandlerParameter& param, const std::string& message) {
  grpc::internal::ErrorMethodHandler<kCode>(message).RunHandler(param);
}

// Sends `status` (not OK) for a call of a method without a request payload
// (client or bidi streaming, synchronous) without running its handler.
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
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return SendAs<grpc::StatusCode::RESOURCE_EXHAUSTED>(param, status.error_message());
    default:
      return SendAs<grpc::StatusCode::INTERNAL>(param, status.error_message());
  }
}

// Puts the refusal carried in the trailing metadata into the status.
class RefusalInterceptor final : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using Hook = grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(Hook::PRE_SEND_STATUS)) {
      if (auto* trailers = methods->GetSendTrailingMetadata()) {
        if (const auto it = trailers->find(kRefusalKey); it != trailers->end()) {
          const std::string carried = it->second;
          trailers->erase(it);
          const size_t colon = carried.find(':');
          const int code =
              colon == std::string::npos ? 0 : std::atoi(carried.substr(0, colon).c_str());
          if (code > 0 && code <= grpc::StatusCode::UNAUTHENTICATED) {
            methods->ModifySendStatus(
                grpc::Status(static_cast<grpc::StatusCode>(code), carried.substr(colon + 1)));
          }
        }
      }
    }
    methods->Proceed();
  }
};

class RefusalFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // Callback methods here are unary, client streaming or server
    // streaming (no bidi streams).
    using Type = grpc::experimental::ServerRpcInfo::Type;
    if (info->type() == Type::BIDI_STREAMING) return nullptr;
    return new RefusalInterceptor();
  }
};

}  // namespace

std::unique_ptr<grpc::Service> WrapService(grpc::Service& inner, const std::string& full_name,
                                           const WrappedHandlerFactory& make) {
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(full_name);
  if (descriptor == nullptr) return nullptr;
  return std::make_unique<WrappedService>(inner, *descriptor, make);
}

void Refuse(const WrappedMethod& wrapped, const MethodHandler::HandlerParameter& param,
            const grpc::Status& refusal) {
  if (!wrapped.has_payload && !wrapped.callback) return SendStatusOnly(param, refusal);
  if (wrapped.callback) {
    param.server_context->AddTrailingMetadata(
        kRefusalKey,
        std::to_string(static_cast<int>(refusal.error_code())) + ":" + refusal.error_message());
  }
  // A failed request status: the generated handler sends it (a callback one
  // as UNIMPLEMENTED, which the refusal
  // interceptor rewrites) without calling the method. A callback handler's request lives in its
  // message holder and is freed with the call; a sync handler destroys the parsed request only when
  // it runs the method, so a refusal destroys it here (it lives in the call's arena: destroyed, not
  // deleted), or its heap parts would leak with every refused call.
  void* request = param.request;
  if (!wrapped.callback && request != nullptr) {
    static_cast<google::protobuf::Message*>(request)->~Message();
    request = nullptr;
  }
  wrapped.inner->RunHandler(MethodHandler::HandlerParameter(param.call, param.server_context,
                                                            request, refusal, param.internal_data,
                                                            param.call_requester));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRefusalInterceptorFactory() {
  return std::make_unique<RefusalFactory>();
}

}  // namespace hartonomous::rpc
