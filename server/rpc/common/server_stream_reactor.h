// Serving a server-streaming method through gRPC's callback API, at the
// client's pace and without a thread per call. The method returns a
// StreamProducer; the reactor runs its Produce on the server's work pool
// (base/work_pool.h), one batch of messages at a time, writes them one by
// one (one write in flight, as gRPC requires), and asks for the next batch
// when the last message of the current one is being written: at most one
// batch waits in memory beside the message being sent, and while the
// client does not read (flow control holds the write) nothing runs and no
// thread is held. The call finishes OK after the last batch's messages,
// with the first error Produce returns (after the write in flight), or when
// the client cancels or its deadline passes (then Produce is not called
// again).
//
//   class ExportProducer final : public StreamProducer<v1::Chunk> { ... };
//   std::unique_ptr<StreamProducer<v1::Chunk>> Export(const v1::ExportRequest& request) {
//     return std::make_unique<ExportProducer>(engine_, request);
//   }
// and the service registers it in its constructor:
//   MarkMethodCallback(ServerStreamMethodIndex(v1::Svc::service_full_name(), "Export"),
//                      CallbackServerStream(&SvcImpl::Export, this, &pool));
//
// A producer whose work pool is full (its queue at max_queued) ends the call
// RESOURCE_EXHAUSTED naming --work-threads.
//
// Thread-safety: Produce runs on the pool, one call at a time per stream;
// the reactions on gRPC's threads. The pool and the service must outlive
// every call (the server's shutdown waits for every reactor).
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/method_handler.h>
#include <grpcpp/support/server_callback.h>

#include <deque>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "base/work_pool.h"
#include "server/rpc/common/status_mapping.h"
#include "server/rpc/common/unary_callback.h"
#include "server/rpc/common/work_pool_status.h"

namespace hartonomous::rpc {

// Makes a server stream's messages, batch by batch, on the work pool.
template <class Response>
class StreamProducer {
 public:
  virtual ~StreamProducer() = default;
  // Appends the next messages to *out and sets *last after the final batch
  // (which may add none). An error ends the call with it (mapped as every
  // engine Status is, status_mapping.h). The first call also validates the
  // request and opens what it reads.
  virtual Status Produce(std::vector<Response>* out, bool* last) = 0;
};

template <class Response>
class ServerStreamReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  ServerStreamReactor(grpc::CallbackServerContext* context,
                      std::unique_ptr<StreamProducer<Response>> producer, WorkPool& pool)
      : context_(context), producer_(std::move(producer)), pool_(pool) {}

  // Starts producing. Call once, before the handler returns the reactor.
  void Start() EXCLUDES(mu_) {
    Next next;
    {
      MutexLock lock(&mu_);
      next = DecideLocked();
    }
    Run(next);
  }

  void OnWriteDone(bool ok) override EXCLUDES(mu_) {
    Next next;
    {
      MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) Stop(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      next = DecideLocked();
    }
    Run(next);
  }

  void OnCancel() override EXCLUDES(mu_) {
    Next next;
    {
      MutexLock lock(&mu_);
      Stop(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
      next = DecideLocked();
    }
    Run(next);
  }

  void OnDone() override { delete this; }

 private:
  // What to start, decided under mu_ together with the state change that
  // led to it (so no other thread can finish the call, and delete it,
  // between the two).
  struct Next {
    bool write = false;    // write current_
    bool produce = false;  // post a Produce
    bool finish = false;   // finish with status
    grpc::Status status;
  };

  // Ends the call with `status` once nothing is in flight (the first one
  // given wins).
  void Stop(grpc::Status status) REQUIRES(mu_) {
    if (stopping_) return;
    stopping_ = true;
    stop_status_ = std::move(status);
  }

  Next DecideLocked() REQUIRES(mu_) {
    Next next;
    if (finished_) return next;
    if (!stopping_ && !writing_ && !ready_.empty()) {
      current_ = std::move(ready_.front());
      ready_.pop_front();
      writing_ = next.write = true;
    }
    if (!stopping_ && !producing_ && !last_ && ready_.empty()) {
      producing_ = next.produce = true;
    }
    if (!writing_ && !producing_ && (stopping_ || (last_ && ready_.empty()))) {
      finished_ = next.finish = true;
      next.status = stopping_ ? stop_status_ : grpc::Status::OK;
    }
    return next;
  }

  // Starts what DecideLocked chose. Touches nothing after Finish (the
  // reactor may be deleted from then on).
  void Run(Next next) EXCLUDES(mu_) {
    while (true) {
      if (next.write) this->StartWrite(&current_);
      if (next.finish) return this->Finish(std::move(next.status));
      if (!next.produce || pool_.TryPost([this] { RunProducer(); })) return;
      MutexLock lock(&mu_);
      producing_ = false;
      Stop(WorkPoolFullStatus(pool_));
      next = DecideLocked();
    }
  }

  // On the pool: one batch.
  void RunProducer() EXCLUDES(mu_) {
    std::vector<Response> batch;
    bool last = false;
    Status made = context_->IsCancelled() ? Status::Aborted("cancelled by the client")
                                          : producer_->Produce(&batch, &last);
    Next next;
    {
      MutexLock lock(&mu_);
      producing_ = false;
      if (!made.ok()) {
        Stop(ToGrpcStatus(made));
      } else {
        for (Response& message : batch) ready_.push_back(std::move(message));
        last_ = last;
      }
      next = DecideLocked();
    }
    Run(next);
  }

  grpc::CallbackServerContext* const context_;
  // Used by one Produce at a time (producing_ is set around it).
  const std::unique_ptr<StreamProducer<Response>> producer_;
  WorkPool& pool_;
  Mutex mu_;
  std::deque<Response> ready_ GUARDED_BY(mu_);  // produced, not yet written
  Response current_ GUARDED_BY(mu_);            // the write in flight (gRPC reads it)
  bool writing_ GUARDED_BY(mu_) = false;
  bool producing_ GUARDED_BY(mu_) = false;
  bool last_ GUARDED_BY(mu_) = false;  // the last batch is in ready_
  bool stopping_ GUARDED_BY(mu_) = false;
  bool finished_ GUARDED_BY(mu_) = false;
  grpc::Status stop_status_ GUARDED_BY(mu_);
};

// gRPC's callback handler of a server-streaming method, marked as such.
template <class Request, class Response>
class ServerStreamCallbackHandler final
    : public grpc::internal::CallbackServerStreamingHandler<Request, Response>,
      public CallbackMethodHandler {
 public:
  using grpc::internal::CallbackServerStreamingHandler<Request,
                                                       Response>::CallbackServerStreamingHandler;
};

// The callback handler serving service->*method's producer on pool. Owned
// by the service once passed to MarkMethodCallback.
template <class Service, class Request, class Response>
grpc::internal::MethodHandler* CallbackServerStream(
    std::unique_ptr<StreamProducer<Response>> (Service::*method)(const Request&), Service* service,
    WorkPool* pool) {
  return new ServerStreamCallbackHandler<Request, Response>(
      [service, method, pool](grpc::CallbackServerContext* context, const Request* request) {
        auto* reactor =
            new ServerStreamReactor<Response>(context, (service->*method)(*request), *pool);
        reactor->Start();
        return reactor;
      });
}

// The index of server-streaming method `method` of service
// service_full_name; aborts when there is no such method (a programming
// error).
int ServerStreamMethodIndex(std::string_view service_full_name, std::string_view method);

}  // namespace hartonomous::rpc
