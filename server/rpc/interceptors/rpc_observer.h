// RpcObserver: a server interceptor that reports every finished call (its
// full method, status code, peer, duration and request id) to a callback,
// which records the RPC metrics and logs failed and slow calls (the daemon
// wires it). The request id is the client's "x-request-id" metadata when it
// sends one (printable ASCII, at most 64 characters), else a fresh 16-digit
// hex id; either way it goes back in the response's initial metadata as
// "x-request-id", so a client can quote it.
//
// Thread-safety: the callback runs on the calls' threads, concurrently.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <functional>
#include <memory>
#include <string>

namespace hartonomous::rpc {

struct FinishedCall {
  std::string method;     // "/hartonomous.v1.AtomService/GetAtom"
  int code = 0;           // grpc::StatusCode
  std::string code_name;  // "OK", "NOT_FOUND", ...
  std::string message;    // the status message (empty when OK)
  std::string peer;       // "ipv4:127.0.0.1:53012"
  std::string request_id;
  double seconds = 0;  // from the call's start to its status
};

using CallObserver = std::function<void(const FinishedCall&)>;

// Register with ServerBuilder::experimental().SetInterceptorCreators().
// REQUIRES: observer outlives the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcObserverFactory(
    const CallObserver* observer);

}  // namespace hartonomous::rpc
