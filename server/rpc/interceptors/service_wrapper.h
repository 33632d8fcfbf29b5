// WrapService: a grpc::Service that serves every method of a generated
// service through a handler of the caller's making, which forwards to (or
// refuses instead of) the generated one. The call limit (call_limit.h), the
// start-up gate (startup_gate.h) and authorization (auth_gate.h) wrap
// services this way: a server interceptor can observe or rewrite a call,
// but the method handler always runs after it.
//
// A wrapped method keeps its kind: synchronous, or a callback method
// (common/unary_callback.h, client_stream_reactor.h,
// server_stream_reactor.h: a handler marked CallbackMethodHandler), whose
// wrapper is registered as a callback method too. A wrapper refuses a call with Refuse(), which
// answers it with the refusal's status without running the method, whatever its kind. The generated
// callback handler can only answer a failed request with UNIMPLEMENTED and no message, so Refuse()
// carries the refusal to the interceptor of MakeRefusalInterceptorFactory() (in the call's trailing
// metadata, which the interceptor removes), which puts it in the status;
// register that interceptor before any that reads the status.
//
// A wrapper forwards a call that arrives already failed (its request did not
// parse, or an outer wrapper refused it) without judging it: the first
// refusal is the one sent.
//
// Thread-safety: the wrapper is as thread-safe as the handlers made.
#pragma once

#include <google/protobuf/descriptor.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/support/server_interceptor.h>

#include <functional>
#include <memory>
#include <string>

namespace hartonomous::rpc {

// One method being wrapped.
struct WrappedMethod {
  const google::protobuf::MethodDescriptor& method;
  grpc::internal::MethodHandler* inner;  // the generated handler, owned by the inner service
  bool callback;                         // a callback-API method
  bool has_payload;                      // unary or server streaming: one request parsed first
};

// make(wrapped) returns the handler of the method (owned by the wrapper).
using WrappedHandlerFactory =
    std::function<grpc::internal::MethodHandler*(const WrappedMethod& wrapped)>;

// The wrapper of `inner`, whose proto service name is full_name; nullptr
// when no such service is compiled in. Register the result instead of
// inner. REQUIRES: inner is a generated service whose methods are
// synchronous or callback methods marked CallbackMethodHandler (or a
// wrapper of one), and it outlives the result.
std::unique_ptr<grpc::Service> WrapService(grpc::Service& inner, const std::string& full_name,
                                           const WrappedHandlerFactory& make);

// Answers the call of `wrapped` with `refusal` (not OK) without running the
// method.
void Refuse(const WrappedMethod& wrapped,
            const grpc::internal::MethodHandler::HandlerParameter& param,
            const grpc::Status& refusal);

// The interceptor factory that puts a callback method's refusal in its
// status. Register with ServerBuilder::experimental().SetInterceptorCreators().
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRefusalInterceptorFactory();

}  // namespace hartonomous::rpc
