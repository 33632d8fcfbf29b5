// Serving a unary method through gRPC's callback API. The handler keeps the
// shape of a synchronous one,
//   grpc::Status Search(grpc::ServerContextBase*, const v1::SearchRequest*,
//                       v1::SearchResponse*);
// and a service swaps the generated synchronous handler for a callback one
// in its constructor:
//   MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "Search"),
//                      CallbackUnary(&SearchServiceImpl::Search, this));
// The callback handler runs the body on the gRPC thread that delivered the
// request and finishes the call's default reactor with its status, so no
// thread is held by a call between its arrival and its reply (the
// synchronous server parks one thread per call). The interceptors and the
// service wrappers (service_wrapper.h) see such a call as any other.
//
// A write whose engine completes it asynchronously (after the writer's group
// commit, storage/write_batcher.h) is served with CallbackUnaryAsync: the
// handler gets a UnaryFinish instead of returning a status, and the call is
// answered when the finish runs, on whichever thread that is; no thread
// waits for the commit.
//
// Thread-safety: the handler runs concurrently on gRPC's callback threads;
// the body must be thread-safe (as a synchronous handler's).
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/method_handler.h>
#include <grpcpp/support/server_callback.h>

#include <functional>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "server/rpc/common/status_mapping.h"

namespace hartonomous::rpc {

// Marks a method handler as one of the callback API (a service wrapper
// registers the wrapped method as a callback method).
class CallbackMethodHandler {
 public:
  virtual ~CallbackMethodHandler() = default;
};

// gRPC's callback handler of a unary method, marked as such.
template <class Request, class Response>
class UnaryCallbackHandler final : public grpc::internal::CallbackUnaryHandler<Request, Response>,
                                   public CallbackMethodHandler {
 public:
  using grpc::internal::CallbackUnaryHandler<Request, Response>::CallbackUnaryHandler;
};

// The callback handler running service->*method and finishing with its
// status (the response is sent when it is OK). Owned by the service once
// passed to MarkMethodCallback.
template <class Service, class Request, class Response>
grpc::internal::MethodHandler* CallbackUnary(
    grpc::Status (Service::*method)(grpc::ServerContextBase*, const Request*, Response*),
    Service* service) {
  return new UnaryCallbackHandler<Request, Response>(
      [service, method](grpc::CallbackServerContext* context, const Request* request,
                        Response* response) {
        grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
        reactor->Finish((service->*method)(context, request, response));
        return reactor;
      });
}

// Answers an asynchronous unary call: call it exactly once, from any thread,
// after the response is filled (it is sent when the status is OK).
using UnaryFinish = std::function<void(grpc::Status)>;

// The completion of an asynchronous engine call that answers the call with
// it, as Reply does. T, the engine's result type, is given: the ToProto
// overload set alone does not name it.
//   engine_.DeleteModelAsync(key, ReplyLater<engine::DeletedModel>(response, std::move(finish),
//                                                                  ToProto));
template <typename T, typename Response>
auto ReplyLater(Response* response, UnaryFinish finish, void (*to_proto)(const T&, Response*)) {
  return [response, finish = std::move(finish), to_proto](Result<T> result) {
    finish(Reply(std::move(result), response, to_proto));
  };
}
// The same for conversions that take the value by move.
template <typename T, typename Response>
auto ReplyLater(Response* response, UnaryFinish finish, void (*to_proto)(T&&, Response*)) {
  return [response, finish = std::move(finish), to_proto](Result<T> result) {
    finish(Reply(std::move(result), response, to_proto));
  };
}

// The callback handler running service->*method, which finishes the call
// through its UnaryFinish (now or later). Owned by the service once passed
// to MarkMethodCallback.
template <class Service, class Request, class Response>
grpc::internal::MethodHandler* CallbackUnaryAsync(void (Service::*method)(grpc::ServerContextBase*,
                                                                          const Request*, Response*,
                                                                          UnaryFinish),
                                                  Service* service) {
  return new UnaryCallbackHandler<Request, Response>(
      [service, method](grpc::CallbackServerContext* context, const Request* request,
                        Response* response) {
        grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
        (service->*method)(context, request, response,
                           [reactor](grpc::Status status) { reactor->Finish(std::move(status)); });
        return reactor;
      });
}

// The index of method `method` of service service_full_name, whose
// requests (client_streaming) and responses (server_streaming) stream as
// given; aborts when there is no such method (a programming error).
int MethodIndex(std::string_view service_full_name, std::string_view method, bool client_streaming,
                bool server_streaming);
// The same for a unary method.
inline int UnaryMethodIndex(std::string_view service_full_name, std::string_view method) {
  return MethodIndex(service_full_name, method, false, false);
}

}  // namespace hartonomous::rpc
