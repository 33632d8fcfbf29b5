// The one table from engine Status codes to grpc::Status.
//
// Thread-safety: pure function.
#pragma once

#include <grpcpp/support/status.h>

#include <utility>

#include "base/status.h"

namespace hartonomous::rpc {

grpc::Status ToGrpcStatus(const Status& status);

// A handler's reply to its engine call: the mapped error, or OK once
// to_proto has converted the value into response. Called with the ToProto
// overload set, the one taking the result's value and response is chosen:
//   return Reply(engine_.GetCollection(name), response, ToProto);
template <typename T, typename Response>
grpc::Status Reply(Result<T> result, Response* response, void (*to_proto)(const T&, Response*)) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  to_proto(*result, response);
  return grpc::Status::OK;
}
// The same for conversions that take the value by move.
template <typename T, typename Response>
grpc::Status Reply(Result<T> result, Response* response, void (*to_proto)(T&&, Response*)) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  to_proto(std::move(result).value(), response);
  return grpc::Status::OK;
}

}  // namespace hartonomous::rpc

// Returns the mapped grpc::Status from the enclosing handler when expr
// yields a non-OK Status.
#define HT_RETURN_IF_GRPC_ERROR(expr)                                          \
  do {                                                                         \
    ::hartonomous::Status _ht_status = (expr);                                 \
    if (!_ht_status.ok()) return ::hartonomous::rpc::ToGrpcStatus(_ht_status); \
  } while (0)
