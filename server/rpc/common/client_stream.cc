#include "server/rpc/common/client_stream.h"

#include <google/protobuf/descriptor.h>
#include <grpc/grpc.h>
#include <grpcpp/impl/call_op_set.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "server/rpc/common/status_mapping.h"

using hartonomous::rpc::ClientStream;

bool ClientStream::Next(std::string* bytes) {
  grpc::ByteBuffer buffer;
  grpc::internal::CallOpSet<grpc::internal::CallOpRecvMessage<grpc::ByteBuffer>> ops;
  ops.RecvMessage(&buffer);
  // A receive that succeeds without a message is the half-close; one that
  // fails (cancel, reset, a message over the size limit) is not.
  ops.AllowNoMessage();
  call_->PerformOps(&ops);
  if (!call_->cq()->Pluck(&ops)) {
    receive_failed_ = true;
    return false;
  }
  if (!ops.got_message) return false;
  if (!hartonomous::rpc::FlattenMessage(buffer, bytes)) {
    receive_failed_ = true;
    return false;
  }
  return true;
}

bool ClientStream::HalfClosed() const {
  return !receive_failed_ && grpc_call_failed_before_recv_message(call_->call()) == 0 &&
         !context_->IsCancelled();
}

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

grpc::Status ReadClientStream(grpc::ServerContext* context, ClientStream* stream,
                              const StreamLimits& limits, google::protobuf::Message& scratch,
                              const StreamMessageHandler& on_message) {
  Result<size_t> count = ReadStreamMessages(*stream, limits, scratch, on_message);
  if (!count.ok()) return ToGrpcStatus(count.status());
  if (!stream->HalfClosed()) return StreamCutStatus();
  if (*count == 0) return EmptyStreamStatus();
  return grpc::Status::OK;
}

int ClientStreamMethodIndex(std::string_view service_full_name, std::string_view method) {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      std::string(service_full_name));
  const auto* found = service == nullptr ? nullptr : service->FindMethodByName(std::string(method));
  if (found == nullptr || !found->client_streaming() || found->server_streaming()) std::abort();
  return found->index();
}

}  // namespace hartonomous::rpc
