// The two call shapes the workloads use, on gRPC's callback API: a unary
// call, and a client-streaming call that writes a prepared list of messages
// and waits for the one response. Each owns its context, request(s) and
// response until the call ends, then reports once through done and frees
// itself. No thread waits on a call.
//
// Thread-safety: each call object is used by gRPC's reactor only.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "workload.h"

namespace hartonomous::bench {

// start(context, request, response, callback) is the stub's
// async()->Method; items is what the call reports on success.
template <typename Request, typename Response, typename StartFn>
void StartUnary(std::unique_ptr<grpc::ClientContext> context, Request request, StartFn start,
                uint64_t items, CallDone done) {
  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    Request request;
    Response response;
    CallDone done;
    uint64_t items;
  };
  auto* call = new Call{std::move(context), std::move(request), Response(), std::move(done), items};
  start(call->context.get(), &call->request, &call->response, [call](grpc::Status status) {
    call->done(status, status.ok() ? call->items : 0);
    delete call;
  });
}

// start(context, response, reactor) is the stub's async()->Method.
template <typename Request, typename Response>
class StreamCall : public grpc::ClientWriteReactor<Request> {
 public:
  template <typename StartFn>
  static void Run(std::unique_ptr<grpc::ClientContext> context, std::vector<Request> messages,
                  StartFn start, uint64_t items, CallDone done) {
    auto* call = new StreamCall(std::move(context), std::move(messages), items, std::move(done));
    start(call->context_.get(), &call->response_, call);
    call->Begin();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return;  // the call failed; OnDone brings its status
    if (++next_ < messages_.size()) {
      this->StartWrite(&messages_[next_]);
    } else {
      this->StartWritesDone();
    }
  }

  void OnDone(const grpc::Status& status) override {
    done_(status, status.ok() ? items_ : 0);
    delete this;
  }

 private:
  StreamCall(std::unique_ptr<grpc::ClientContext> context, std::vector<Request> messages,
             uint64_t items, CallDone done)
      : context_(std::move(context)),
        messages_(std::move(messages)),
        items_(items),
        done_(std::move(done)) {}

  void Begin() {
    if (messages_.empty()) {
      this->StartWritesDone();
    } else {
      this->StartWrite(&messages_[0]);
    }
    this->StartCall();
  }

  std::unique_ptr<grpc::ClientContext> context_;
  std::vector<Request> messages_;
  size_t next_ = 0;
  uint64_t items_;
  CallDone done_;
  Response response_;
};

}  // namespace hartonomous::bench
