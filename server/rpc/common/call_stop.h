// CallStop: a call's deadline and its client's cancel as the plain
// Cancellation (base/cancellation.h) that the engines check, so that work
// whose client stopped waiting stops too (searches: engine::SearchQuery::stop).
//
// Thread-safety: the Cancellation lives as long as the call's handler runs
// and is checked on that handler's thread.
#pragma once

#include <grpcpp/server_context.h>

#include "base/cancellation.h"

namespace hartonomous::rpc {

inline Cancellation CallStop(grpc::ServerContextBase* context) {
  return Cancellation(context->deadline(), [context] { return context->IsCancelled(); });
}

}  // namespace hartonomous::rpc
