// The answer to a call that the server's work pool (base/work_pool.h) has
// no room for: RESOURCE_EXHAUSTED naming --work-threads, nothing stored.
// Used by the callback streams that run their work there
// (client_stream_reactor.h, server_stream_reactor.h).
//
// Thread-safety: a pure function.
#pragma once

#include <grpcpp/support/status.h>

#include "base/work_pool.h"

namespace hartonomous::rpc {

grpc::Status WorkPoolFullStatus(const WorkPool& pool);

}  // namespace hartonomous::rpc
