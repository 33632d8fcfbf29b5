#include "server/rpc/common/client_stream_reactor.h"

#include "server/rpc/common/client_stream.h"

namespace hartonomous::rpc {

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
    if (!FlattenMessage(buffer_, &bytes_)) return Finish(StreamCutStatus());
    if (Status taken = call_->Add(bytes_); !taken.ok()) return Finish(ToGrpcStatus(taken));
    StartRead(&buffer_);
    return;
  }
  // No message: the half-close, unless the receive failed, which gRPC has
  // marked on the context by now.
  if (context_->IsCancelled()) return Finish(StreamCutStatus());
  if (call_->count() == 0) return Finish(EmptyStreamStatus());
  call_->End([this](grpc::Status status) { Finish(std::move(status)); });
}

}  // namespace hartonomous::rpc
