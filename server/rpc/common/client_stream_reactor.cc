#include "server/rpc/common/client_stream_reactor.h"

#include "server/rpc/common/client_stream.h"

namespace hartonomous::rpc {

grpc::Status WorkPoolFullStatus(const WorkPool& pool) {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "server busy: " + std::to_string(pool.max_queued()) +
                          " calls already wait for the " + std::to_string(pool.threads()) +
                          " work threads (--work-threads); nothing stored, retry later");
}

ClientStreamReactor::ClientStreamReactor(grpc::CallbackServerContext* context,
                                         std::unique_ptr<StreamCall> call,
                                         StreamPlacement placement)
    : context_(context), call_(std::move(call)), placement_(placement) {
  if (call_ == nullptr) {
    Finish(grpc::Status(grpc::StatusCode::INTERNAL, "stream: the call could not be started"));
    return;
  }
  StartRead(&buffer_);
}

void ClientStreamReactor::OnReadDone(bool ok) {
  if (ok) {
    if (!FlattenMessage(buffer_, &bytes_)) return Finish(StreamCutStatus());
    return Run(placement_.work == StreamWork::kEveryMessage, &ClientStreamReactor::AddMessage);
  }
  // No message: the half-close, unless the receive failed, which gRPC has
  // marked on the context by now.
  if (context_->IsCancelled()) return Finish(StreamCutStatus());
  if (call_->count() == 0) return Finish(EmptyStreamStatus());
  Run(true, &ClientStreamReactor::End);
}

void ClientStreamReactor::OnDone() {
  if (placement_.pool != nullptr && placement_.work == StreamWork::kEveryMessage &&
      placement_.pool->TryPost([this] { delete this; })) {
    return;
  }
  delete this;
}

void ClientStreamReactor::AddMessage() {
  if (Status taken = call_->Add(bytes_); !taken.ok()) return Finish(ToGrpcStatus(taken));
  StartRead(&buffer_);
}

void ClientStreamReactor::End() {
  call_->End([this](grpc::Status status) { Finish(std::move(status)); });
}

void ClientStreamReactor::Run(bool on_pool, void (ClientStreamReactor::*step)()) {
  if (!on_pool || placement_.pool == nullptr) return (this->*step)();
  // The reactor lives until Finish, which only the step (or this refusal)
  // calls, so the task may hold it.
  const bool posted = placement_.pool->TryPost([this, step] {
    if (context_->IsCancelled()) return Finish(StreamCutStatus());
    (this->*step)();
  });
  if (!posted) Finish(WorkPoolFullStatus(*placement_.pool));
}

}  // namespace hartonomous::rpc
