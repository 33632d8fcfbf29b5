// WrapService: a grpc::Service that serves every method of a generated
// synchronous service through a handler of the caller's making, which
// forwards to (or refuses instead of) the generated one. The start-up gate
// (startup_gate.h) and authorization (auth_gate.h) wrap services this way:
// with gRPC's synchronous API a server interceptor can observe or rewrite a
// call, but the method handler always runs after it.
//
// Thread-safety: the wrapper is as thread-safe as the handlers made.
#pragma once

#include <google/protobuf/descriptor.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/impl/service_type.h>

#include <functional>
#include <memory>
#include <string>

namespace hartonomous::rpc {

// make(method, inner) returns the handler of `method` (owned by the
// wrapper); inner is the generated handler, owned by the inner service.
using WrappedHandlerFactory = std::function<grpc::internal::MethodHandler*(
    const google::protobuf::MethodDescriptor& method, grpc::internal::MethodHandler* inner)>;

// The wrapper of `inner`, whose proto service name is full_name; nullptr
// when no such service is compiled in. Register the result instead of
// inner. REQUIRES: inner is a generated synchronous service (no async,
// callback or raw methods) and outlives the result.
std::unique_ptr<grpc::Service> WrapService(grpc::Service& inner, const std::string& full_name,
                                           const WrappedHandlerFactory& make);

// Sends `status` (not OK) for a call of a method without a request payload
// (client or bidi streaming) without running its handler.
void SendStatusOnly(const grpc::internal::MethodHandler::HandlerParameter& param,
                    const grpc::Status& status);

}  // namespace hartonomous::rpc
