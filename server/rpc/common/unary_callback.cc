#include "server/rpc/common/unary_callback.h"

#include <google/protobuf/descriptor.h>

#include <cstdlib>
#include <string>

namespace hartonomous::rpc {

int MethodIndex(std::string_view service_full_name, std::string_view method, bool client_streaming,
                bool server_streaming) {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      std::string(service_full_name));
  const auto* found = service == nullptr ? nullptr : service->FindMethodByName(std::string(method));
  if (found == nullptr || found->client_streaming() != client_streaming ||
      found->server_streaming() != server_streaming) {
    std::abort();
  }
  return found->index();
}

}  // namespace hartonomous::rpc
