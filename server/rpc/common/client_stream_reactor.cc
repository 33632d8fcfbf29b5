#include "server/rpc/common/client_stream_reactor.h"

#include <grpcpp/support/slice.h>

#include <vector>

namespace hartonomous::rpc {
namespace {

grpc::Status Cut() {
  return grpc::Status(grpc::StatusCode::CANCELLED,
                      "stream: cancelled, disconnected or failed before the client closed it; "
                      "nothing stored");
}

// The buffer's bytes in *bytes; false when they cannot be read.
bool Flatten(grpc::ByteBuffer& buffer, std::string* bytes) {
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

}  // namespace

ClientStreamReactor::ClientStreamReactor(grpc::CallbackServerContext* context,
                                         std::unique_ptr<StreamCall> call)
    : context_(context), call_(std::move(call)) {
  if (call_ == nullptr) {
    Finish(grpc::Status(grpc::StatusCode::INTERNAL, "stream: the call could not be started"));
    return;
  }
  StartRead(&buffer_);
}

void ClientStreamReactor::OnReadDone(bool ok) {
  if (ok) {
    if (!Flatten(buffer_, &bytes_)) return Finish(Cut());
    if (Status taken = call_->Add(bytes_); !taken.ok()) return Finish(ToGrpcStatus(taken));
    StartRead(&buffer_);
    return;
  }
  // No message: the half-close, unless the receive failed, which gRPC has
  // marked on the context by now.
  if (context_->IsCancelled()) return Finish(Cut());
  if (call_->count() == 0) {
    return Finish(
        ToGrpcStatus(Status::InvalidArgument("stream: carried no message; nothing stored")));
  }
  call_->End([this](grpc::Status status) { Finish(std::move(status)); });
}

}  // namespace hartonomous::rpc
