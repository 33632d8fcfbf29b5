#include "server/rpc/common/client_stream.h"

#include <google/protobuf/descriptor.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "server/rpc/common/status_mapping.h"

namespace hartonomous::rpc {

bool FlattenMessage(grpc::ByteBuffer& buffer, std::string* bytes) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return false;
  bytes->clear();
  bytes->reserve(buffer.Length());
  for (const auto& slice : slices) {
    bytes->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  buffer.Clear();
  return true;
}

grpc::Status StreamCutStatus() {
  return grpc::Status(grpc::StatusCode::CANCELLED,
                      "stream: cancelled, disconnected or failed before the client closed it; "
                      "nothing stored");
}

grpc::Status EmptyStreamStatus() {
  return ToGrpcStatus(Status::InvalidArgument("stream: carried no message; nothing stored"));
}

int ClientStreamMethodIndex(std::string_view service_full_name, std::string_view method) {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      std::string(service_full_name));
  const auto* found = service == nullptr ? nullptr : service->FindMethodByName(std::string(method));
  if (found == nullptr || !found->client_streaming() || found->server_streaming()) std::abort();
  return found->index();
}

}  // namespace hartonomous::rpc
