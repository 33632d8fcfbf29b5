#include "server/rpc/common/server_stream_reactor.h"

namespace hartonomous::rpc {

int ServerStreamMethodIndex(std::string_view service_full_name, std::string_view method) {
  return MethodIndex(service_full_name, method, /*client_streaming=*/false,
                     /*server_streaming=*/true);
}

}  // namespace hartonomous::rpc
