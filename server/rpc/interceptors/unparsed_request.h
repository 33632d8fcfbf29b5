// UnparsedRequestInterceptor: gives a unary or server-streaming call whose
// request does not parse a clear status. gRPC answers such a call with
// INTERNAL (a synchronous method) or UNIMPLEMENTED (a callback method) and
// an empty message before any handler runs; this
// server interceptor turns that into
//   INVALID_ARGUMENT "request: the message is missing or does not parse as hartonomous.v1.X"
// It sees the failure at POST_RECV_MESSAGE (no deserialized message) and
// rewrites the status at PRE_SEND_STATUS; other calls pass untouched.
// Client streams parse their own messages (client_stream.h).
//
// Thread-safety: the factory is thread-safe; an interceptor serves one call.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace hartonomous::rpc {

// Register with ServerBuilder::experimental().SetInterceptorCreators().
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeUnparsedRequestInterceptorFactory();

}  // namespace hartonomous::rpc
