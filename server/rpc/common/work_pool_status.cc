#include "server/rpc/common/work_pool_status.h"

#include <string>

namespace hartonomous::rpc {

grpc::Status WorkPoolFullStatus(const WorkPool& pool) {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "server busy: " + std::to_string(pool.max_queued()) +
                          " calls already wait for the " + std::to_string(pool.threads()) +
                          " work threads (--work-threads); nothing stored, retry later");
}

}  // namespace hartonomous::rpc
