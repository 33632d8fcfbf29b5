#include "server/rpc/interceptors/auth_gate.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/support/method_handler.h>

#include <optional>
#include <string_view>

#include "hartonomous/v1/auth.pb.h"
#include "server/rpc/common/status_mapping.h"
#include "server/rpc/interceptors/service_wrapper.h"

namespace hartonomous::rpc {
namespace {

using grpc::internal::MethodHandler;

constexpr char kReflectionMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

// The "authorization" value among a call's metadata; nullopt when absent.
std::optional<std::string_view> Authorization(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

// OK when the caller may call a method requiring `required`.
grpc::Status Admit(const engine::ApiKeyEngine& keys,
                   const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                   engine::Role required, std::string_view method) {
  Result<engine::Principal> principal = keys.Authenticate(Authorization(metadata));
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  if (engine::RoleAllows(principal->role, required)) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      "API key '" + principal->name + "' has role " +
                          std::string(engine::RoleName(principal->role)) + "; " +
                          std::string(method) + " requires " +
                          std::string(engine::RoleName(required)));
}

// Runs the generated handler for an admitted call; otherwise refuses it
// without calling the method (service_wrapper.h).
class AuthHandler final : public MethodHandler {
 public:
  AuthHandler(const engine::ApiKeyEngine& keys, const WrappedMethod& wrapped, engine::Role required)
      : keys_(keys),
        wrapped_(wrapped),
        method_(wrapped.method.service()->full_name() + "/" + wrapped.method.name()),
        required_(required) {}

  void RunHandler(const HandlerParameter& param) override {
    if (!param.status.ok()) return wrapped_.inner->RunHandler(param);
    const grpc::Status admitted =
        Admit(keys_, param.server_context->client_metadata(), required_, method_);
    if (admitted.ok()) return wrapped_.inner->RunHandler(param);
    Refuse(wrapped_, param, admitted);
  }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* req, grpc::Status* status,
                    void** handler_data) override {
    return wrapped_.inner->Deserialize(call, req, status, handler_data);
  }

 private:
  const engine::ApiKeyEngine& keys_;
  const WrappedMethod wrapped_;
  const std::string method_;  // "hartonomous.v1.AtomService/GetAtom"
  const engine::Role required_;
};

// Server reflection: decided once the metadata arrives. A refused stream's
// requests are cleared before the service reads them (so nothing is looked
// up), each response's error_response is set to the refusal, and the final
// status becomes the refusal.
class ReflectionAuthInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ReflectionAuthInterceptor(const engine::ApiKeyEngine& keys) : keys_(keys) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using Hook = grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(Hook::POST_RECV_INITIAL_METADATA)) {
      refusal_ = Admit(keys_, *methods->GetRecvInitialMetadata(), engine::Role::kRead,
                       "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
    }
    if (!refusal_.ok()) {
      if (methods->QueryInterceptionHookPoint(Hook::POST_RECV_MESSAGE)) {
        if (auto* request = static_cast<google::protobuf::Message*>(methods->GetRecvMessage())) {
          request->Clear();
        }
      }
      if (methods->QueryInterceptionHookPoint(Hook::PRE_SEND_MESSAGE)) {
        if (const void* sent = methods->GetSendMessage()) {
          SetErrorResponse(const_cast<google::protobuf::Message*>(
              static_cast<const google::protobuf::Message*>(sent)));
        }
      }
      if (methods->QueryInterceptionHookPoint(Hook::PRE_SEND_STATUS)) {
        methods->ModifySendStatus(refusal_);
      }
    }
    methods->Proceed();
  }

 private:
  // ServerReflectionResponse.error_response = {error_code, error_message},
  // set through protobuf reflection (gRPC does not ship the generated type).
  void SetErrorResponse(google::protobuf::Message* response) const {
    const auto* descriptor = response->GetDescriptor();
    const auto* field = descriptor->FindFieldByName("error_response");
    if (field == nullptr || field->message_type() == nullptr) return;
    google::protobuf::Message* error = response->GetReflection()->MutableMessage(response, field);
    const auto* code = error->GetDescriptor()->FindFieldByName("error_code");
    const auto* message = error->GetDescriptor()->FindFieldByName("error_message");
    if (code == nullptr || message == nullptr) return;
    error->GetReflection()->SetInt32(error, code, static_cast<int32_t>(refusal_.error_code()));
    error->GetReflection()->SetString(error, message, refusal_.error_message());
  }

  const engine::ApiKeyEngine& keys_;
  grpc::Status refusal_;
};

class ReflectionAuthFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ReflectionAuthFactory(const engine::ApiKeyEngine& keys) : keys_(keys) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (info->method() == nullptr || std::string_view(info->method()) != kReflectionMethod) {
      return nullptr;
    }
    return new ReflectionAuthInterceptor(keys_);
  }

 private:
  const engine::ApiKeyEngine& keys_;
};

}  // namespace

engine::Role RequiredRole(const google::protobuf::MethodDescriptor& method) {
  const auto& options = method.options();
  if (!options.HasExtension(v1::required_role)) return engine::Role::kAdmin;
  return engine::RoleFromValue(static_cast<uint32_t>(options.GetExtension(v1::required_role)))
      .value_or(engine::Role::kAdmin);
}

std::unique_ptr<grpc::Service> AuthGate::Wrap(grpc::Service& inner,
                                              const std::string& full_name) const {
  return WrapService(inner, full_name, [this](const WrappedMethod& wrapped) {
    return new AuthHandler(keys_, wrapped, RequiredRole(wrapped.method));
  });
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
AuthGate::MakeReflectionAuthFactory() const {
  return std::make_unique<ReflectionAuthFactory>(keys_);
}

}  // namespace hartonomous::rpc
