#include "server/rpc/common/client_stream_reactor.h"

#include "server/rpc/common/client_stream.h"

namespace hartonomous::rpc {

ClientStreamReactor::ClientStreamReactor(grpc::CallbackServerContext* context,
                                         std::unique_ptr<StreamCall> call,
                                         StreamPlacement placement)
    : context_(context), call_(std::move(call)), placement_(placement) {
  read_tag_.functor_run = &ClientStreamReactor::OnReceived;
  read_tag_.inlineable = 0;
  read_tag_.reactor = this;
  if (call_ == nullptr) {
    Finish(grpc::Status(grpc::StatusCode::INTERNAL, "stream: the call could not be started"));
    return;
  }
  Receive();
}

void ClientStreamReactor::Receive() {
  grpc_op op{};
  op.op = GRPC_OP_RECV_MESSAGE;
  op.data.recv_message.recv_message = &received_;
  received_ = nullptr;
  // The reactor lives until Finish, which is called only once this receive
  // completed (or was never started).
  if (grpc_call_start_batch(context_->c_call(), &op, 1, &read_tag_, nullptr) != GRPC_CALL_OK) {
    Finish(StreamCutStatus());
  }
}

void ClientStreamReactor::OnReceived(grpc_completion_queue_functor* tag, int success) {
  ClientStreamReactor* reactor = static_cast<ReadTag*>(tag)->reactor;
  grpc_byte_buffer* message = reactor->received_;
  reactor->received_ = nullptr;
  reactor->Received(success != 0, message);
  if (message != nullptr) grpc_byte_buffer_destroy(message);
}

void ClientStreamReactor::Received(bool received, grpc_byte_buffer* message) {
  if (!received) return Finish(StreamCutStatus());  // the receive itself failed
  if (message != nullptr) {
    if (!FlattenMessage(message, &bytes_)) return Finish(StreamCutStatus());
    return Run(placement_.work == StreamWork::kEveryMessage, &ClientStreamReactor::AddMessage);
  }
  // No message: the half-close, unless the transport or the context says
  // the call failed.
  if (grpc_call_failed_before_recv_message(context_->c_call()) != 0 || context_->IsCancelled()) {
    return Finish(StreamCutStatus());
  }
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
  Receive();
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
