#include "server/rpc/common/client_stream.h"

#include <google/protobuf/descriptor.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

#include <cstdlib>
#include <string>

#include "server/rpc/common/status_mapping.h"
#include "server/rpc/common/unary_callback.h"

namespace hartonomous::rpc {

bool FlattenMessage(grpc_byte_buffer* buffer, std::string* bytes) {
  grpc_byte_buffer_reader reader;
  if (grpc_byte_buffer_reader_init(&reader, buffer) == 0) return false;
  bytes->clear();
  bytes->reserve(grpc_byte_buffer_length(buffer));
  grpc_slice slice;
  while (grpc_byte_buffer_reader_next(&reader, &slice) != 0) {
    bytes->append(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(slice)),
                  GRPC_SLICE_LENGTH(slice));
    grpc_slice_unref(slice);
  }
  grpc_byte_buffer_reader_destroy(&reader);
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
  return MethodIndex(service_full_name, method, /*client_streaming=*/true,
                     /*server_streaming=*/false);
}

}  // namespace hartonomous::rpc
