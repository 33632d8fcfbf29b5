// Serving a long unary method (compaction, backup, consistency check,
// purge, prune, index rebuild and snapshot, projection refit,
// quantization, student extraction) through gRPC's callback API on a
// thread of its own (base/call_threads.h). The handler keeps the shape of
// a synchronous one,
//   grpc::Status Compact(grpc::ServerContextBase*, const v1::CompactRequest*,
//                        v1::CompactResponse*);
// and the service registers it in its constructor:
//   MarkMethodCallback(UnaryMethodIndex(v1::AdminService::service_full_name(), "Compact"),
//                      CallbackLongUnary(&AdminServiceImpl::Compact, this, &threads));
// The body runs on the new thread and finishes the call with its status;
// such work would hold back the short items of the work pool, and gRPC's
// callback threads, which also drive the network, must not block. With
// every thread of `threads` busy (--max-threads) the call ends
// RESOURCE_EXHAUSTED at once, having done nothing.
//
// Thread-safety: bodies run concurrently on their threads; the body must be
// thread-safe (as a synchronous handler's). threads and the service must
// outlive every call (the server's shutdown waits for every call).
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include "base/call_threads.h"
#include "server/rpc/common/unary_callback.h"

namespace hartonomous::rpc {

// RESOURCE_EXHAUSTED: every thread for long calls is running one.
grpc::Status LongCallsBusyStatus(const CallThreads& threads);

template <class Service, class Request, class Response>
grpc::internal::MethodHandler* CallbackLongUnary(
    grpc::Status (Service::*method)(grpc::ServerContextBase*, const Request*, Response*),
    Service* service, CallThreads* threads) {
  return new UnaryCallbackHandler<Request, Response>(
      [service, method, threads](grpc::CallbackServerContext* context, const Request* request,
                                 Response* response) {
        grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
        if (!threads->TryStart([service, method, context, request, response, reactor] {
              reactor->Finish((service->*method)(context, request, response));
            })) {
          reactor->Finish(LongCallsBusyStatus(*threads));
        }
        return reactor;
      });
}

}  // namespace hartonomous::rpc
