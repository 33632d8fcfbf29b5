// Serving a client-streaming method through gRPC's callback API, so that no
// thread is held while the client sends (or idles) and while the stream's
// write waits for its group commit. A stream ends in one of these ways:
//
//   the client's half-close    the only normal end: the call's End runs
//   cancel, disconnect,        CANCELLED "stream: ... before the client closed it"
//     deadline, process death,
//     a message over gRPC's
//     size limit
//   a message that does not    INVALID_ARGUMENT "stream message N: does not
//     parse                      parse as hartonomous.v1.X; nothing stored"
//   bytes over the limit       RESOURCE_EXHAUSTED naming the limit and its flag
//   no message at all          INVALID_ARGUMENT "stream: carried no message"
//
// Messages are received with gRPC's core API (a GRPC_OP_RECV_MESSAGE batch on
// the call, completed on the callback queue) and parsed by the call
// (StreamMessageParser), so a message that does not parse is told apart
// from the end of the stream. A receive is the half-close only when its
// batch succeeded without a message, the transport does not report a
// failure (grpc_call_failed_before_recv_message) and the context does not
// say cancelled. gRPC's C++ read (StartRead) reports a failed batch and the
// half-close alike, and a message over the size limit is refused by a
// filter above the transport, whose cancel reaches the context later: read
// that way, such a message could end the stream as if it were closed.
//
// A handler makes one StreamCall per call, which hands the messages to a
// collector (buffering them as one engine input, or passing them on to an
// engine writer) and, at the end, makes one all-or-nothing commit; IngestAtoms
// answers from its commit without waiting:
//   std::unique_ptr<StreamCall> AtomServiceImpl::IngestAtoms(
//       grpc::CallbackServerContext*, v1::IngestAtomsResponse* response) {
//     return CollectStream<v1::IngestAtomsRequest>(
//         limits, IngestAtomsCollector(limits_),
//         [this, response](IngestAtomsCollector& atoms, UnaryFinish finish) {
//           engine_.IngestAsync(atoms.Take(), ReplyLater<engine::IngestSummary>(
//                                                 response, std::move(finish), ToProto));
//         });
//   }
// and the service registers it in its constructor:
//   MarkMethodCallback(ClientStreamMethodIndex(v1::AtomService::service_full_name(),
//                                              "IngestAtoms"),
//                      CallbackClientStream(&AtomServiceImpl::IngestAtoms, this,
//                                           {pool, StreamWork::kEnd}));
//
// Where the call's work runs (StreamWork): gRPC's callback threads also
// drive the network, so work that takes CPU or waits (hashing and
// compressing at the end, decoding, staging a model's bytes) runs on the
// server's WorkPool (base/work_pool.h) instead: kEnd posts End there and
// parses each message on the callback thread; kEveryMessage posts each
// Add too, and the next receive starts when it is done. A task that finds the
// call cancelled ends it as cut without running; a pool whose queue is full
// ends the call RESOURCE_EXHAUSTED naming --work-threads (nothing stored).
//
// Thread-safety: a call's messages are delivered one at a time (the next
// receive starts after the previous message was handled), on gRPC's
// callback threads or the pool's; a StreamCall needs no locking. End's
// finish may run on any thread.
#pragma once

#include <grpc/grpc.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/method_handler.h>
#include <grpcpp/support/server_callback.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "base/status.h"
#include "base/work_pool.h"
#include "server/rpc/common/client_stream.h"
#include "server/rpc/common/status_mapping.h"
#include "server/rpc/common/stream_messages.h"
#include "server/rpc/common/unary_callback.h"
#include "server/rpc/common/work_pool_status.h"

namespace hartonomous::rpc {

// One client-streaming call's consumer.
class StreamCall {
 public:
  virtual ~StreamCall() = default;
  // Takes the next message's serialized bytes; a non-OK Status ends the
  // stream with it (nothing is stored).
  virtual Status Add(const std::string& bytes) = 0;
  // The messages taken so far.
  virtual size_t count() const = 0;
  // The client half-closed after at least one message: answer the call
  // through finish, exactly once, now or later, from any thread.
  virtual void End(UnaryFinish finish) = 0;
};

// The StreamCall that parses each message as Request (within limits), hands
// it to collector.Add and, at the end, runs collector.Finish and then
// end(collector, finish).
template <typename Request, typename Collector, typename EndFn>
class CollectedStream final : public StreamCall {
 public:
  CollectedStream(const StreamLimits& limits, Collector collector, EndFn end)
      : collector_(std::move(collector)),
        end_(std::move(end)),
        parser_(limits, scratch_, [this](google::protobuf::Message&, size_t index) {
          return collector_.Add(scratch_, index);
        }) {}

  Status Add(const std::string& bytes) override { return parser_.Take(bytes); }
  size_t count() const override { return parser_.count(); }
  void End(UnaryFinish finish) override {
    if (Status whole = collector_.Finish(); !whole.ok()) return finish(ToGrpcStatus(whole));
    end_(collector_, std::move(finish));
  }

 private:
  Request scratch_;
  Collector collector_;
  EndFn end_;
  StreamMessageParser parser_;
};

template <typename Request, typename Collector, typename EndFn>
std::unique_ptr<StreamCall> CollectStream(const StreamLimits& limits, Collector collector,
                                          EndFn end) {
  return std::make_unique<CollectedStream<Request, Collector, EndFn>>(limits, std::move(collector),
                                                                      std::move(end));
}

// Which of a call's steps run on the work pool (see the file comment).
enum class StreamWork {
  kEnd,           // End; each message is parsed and added on the callback thread
  kEveryMessage,  // each Add and End
};

struct StreamPlacement {
  WorkPool* pool = nullptr;  // nullptr: every step on the callback thread
  StreamWork work = StreamWork::kEnd;
};

// The reactor of one call: receives message after message into the StreamCall,
// then ends it (see the file comment). Deletes itself when the call is done.
class ClientStreamReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  // call: nullptr answers INTERNAL at once (the handler could not make one).
  ClientStreamReactor(grpc::CallbackServerContext* context, std::unique_ptr<StreamCall> call,
                      StreamPlacement placement);

  // Deletes the reactor; with kEveryMessage on the pool, as dropping the
  // call's state may wait on storage (an abandoned import releases what it
  // staged).
  void OnDone() override;

 private:
  // The completion of a receive, run on a callback thread.
  struct ReadTag : grpc_completion_queue_functor {
    ClientStreamReactor* reactor = nullptr;
  };
  static void OnReceived(grpc_completion_queue_functor* tag, int success);

  // Starts receiving the next message (at most one receive at a time).
  void Receive();
  // received: the batch succeeded; message: nullptr at the end of the stream.
  void Received(bool received, grpc_byte_buffer* message);
  // Adds bytes_ to the call and starts the next receive, or ends the call.
  void AddMessage();
  void End();
  // Runs step now, or on the pool when on_pool.
  void Run(bool on_pool, void (ClientStreamReactor::*step)());

  grpc::CallbackServerContext* const context_;
  const std::unique_ptr<StreamCall> call_;
  const StreamPlacement placement_;
  ReadTag read_tag_;
  grpc_byte_buffer* received_ = nullptr;
  std::string bytes_;
};

// gRPC's callback handler of a client-streaming method, reading raw
// messages, marked as a callback method (unary_callback.h).
template <class Response>
class ClientStreamCallbackHandler final
    : public grpc::internal::CallbackClientStreamingHandler<grpc::ByteBuffer, Response>,
      public CallbackMethodHandler {
 public:
  using grpc::internal::CallbackClientStreamingHandler<grpc::ByteBuffer,
                                                       Response>::CallbackClientStreamingHandler;
};

// The callback handler whose calls are read into service->*make's
// StreamCall. Owned by the service once passed to MarkMethodCallback.
template <class Service, class Response>
grpc::internal::MethodHandler* CallbackClientStream(
    std::unique_ptr<StreamCall> (Service::*make)(grpc::CallbackServerContext*, Response*),
    Service* service, StreamPlacement placement) {
  return new ClientStreamCallbackHandler<Response>(
      [service, make, placement](grpc::CallbackServerContext* context, Response* response) {
        return new ClientStreamReactor(context, (service->*make)(context, response), placement);
      });
}

}  // namespace hartonomous::rpc
