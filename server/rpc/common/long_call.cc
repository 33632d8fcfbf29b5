#include "server/rpc/common/long_call.h"

#include <string>

namespace hartonomous::rpc {

grpc::Status LongCallsBusyStatus(const CallThreads& threads) {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "server busy: all " + std::to_string(threads.max_threads()) +
                          " threads for long calls (--max-threads) are running one; nothing "
                          "done, retry when one ends");
}

}  // namespace hartonomous::rpc
