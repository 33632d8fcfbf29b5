// The one table from engine Status codes to grpc::Status.
//
// Thread-safety: pure function.
#pragma once

#include <grpcpp/support/status.h>

#include "base/status.h"

namespace hartonomous::rpc {

grpc::Status ToGrpcStatus(const Status& status);

}  // namespace hartonomous::rpc

// Returns the mapped grpc::Status from the enclosing handler when expr
// yields a non-OK Status.
#define HT_RETURN_IF_GRPC_ERROR(expr)                                          \
  do {                                                                         \
    ::hartonomous::Status _ht_status = (expr);                                 \
    if (!_ht_status.ok()) return ::hartonomous::rpc::ToGrpcStatus(_ht_status); \
  } while (0)
