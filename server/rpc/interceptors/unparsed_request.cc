#include "server/rpc/interceptors/unparsed_request.h"

#include <google/protobuf/descriptor.h>

#include <string>

namespace hartonomous::rpc {
namespace {

// "/hartonomous.v1.AtomService/GetAtom" -> "hartonomous.v1.GetAtomRequest";
// the method path when the method is not in the generated descriptors.
std::string RequestTypeOf(const char* method_path) {
  std::string name = method_path == nullptr ? "" : method_path;
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  std::string full = name;
  if (const auto slash = full.rfind('/'); slash != std::string::npos) full[slash] = '.';
  const auto* method = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full);
  if (method == nullptr) return "the request of " + name;
  return method->input_type()->full_name();
}

class UnparsedRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit UnparsedRequestInterceptor(grpc::experimental::ServerRpcInfo* info) : info_(info) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using Hook = grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(Hook::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparsed_ = true;
    }
    if (unparsed_ && methods->QueryInterceptionHookPoint(Hook::PRE_SEND_STATUS) &&
        (methods->GetSendStatus().error_code() == grpc::StatusCode::INTERNAL ||
         methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED)) {
      // The handler did not run (gRPC skips it when the request does not
      // deserialize), so this INTERNAL (synchronous method) or
      // UNIMPLEMENTED (callback method) is gRPC's parse failure.
      methods->ModifySendStatus(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "request: the message is missing or does not parse as " +
                           RequestTypeOf(info_->method())));
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  bool unparsed_ = false;
};

class UnparsedRequestFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    using Type = grpc::experimental::ServerRpcInfo::Type;
    // Only these have gRPC parse their one request before the handler.
    if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING) return nullptr;
    return new UnparsedRequestInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeUnparsedRequestInterceptorFactory() {
  return std::make_unique<UnparsedRequestFactory>();
}

}  // namespace hartonomous::rpc
