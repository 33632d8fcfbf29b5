// How a synchronous client-streaming handler reads its stream
// (IngestDocument, AddEmbeddings, ImportModel, SetLayerValues; the callback
// form, with the same statuses, is client_stream_reactor.h). The stream is
// read as raw bytes and parsed here, so that the end of a stream is told
// apart from its failures:
//
//   the client's half-close    the only normal end: OK
//   cancel, disconnect,        CANCELLED "stream: ... before the client closed it"
//     deadline, process death,
//     a message over gRPC's
//     size limit
//   a message that does not    INVALID_ARGUMENT "stream message N: does not
//     parse                      parse as hartonomous.v1.X; nothing stored"
//   bytes over the limit       RESOURCE_EXHAUSTED naming the limit and its flag
//   no message at all          INVALID_ARGUMENT "stream: carried no message"
//
// (gRPC's typed ServerReader<T>::Read returns false at the half-close, when a
// message fails to parse and when the receive itself fails (a message over
// the size limit), and the context does not always say cancelled by then; so
// the typed API took a garbage or oversized message for the end of the
// stream and committed what came before it. ClientStream reads with the
// receive's own success flag.)
//
// A handler reads into a StreamCollector (stream_messages.h), which buffers
// the stream's messages as one engine input, and calls the engine only when
// ReadClientStream returned OK, in one all-or-nothing engine call: a stream
// that fails in any way stores nothing. The whole handler:
//   IngestDocumentCollector document;
//   grpc::Status read = ReadClientStream(context, stream, StreamLimits{...}, document);
//   if (!read.ok()) return read;
//   return Reply(documents_.Ingest(document.Take()), response, ToProto);
//
// Wiring: a service replaces the generated handler of each client-streaming
// method in its constructor:
//   MarkMethodStreamed(ClientStreamMethodIndex(v1::AtomService::service_full_name(),
//   "IngestDocument"),
//                      new ClientStreamHandler<AtomServiceImpl, v1::IngestDocumentResponse>(
//                          &AtomServiceImpl::IngestDocument, this));
// where IngestDocument takes a ClientStream*. MarkMethodStreamed marks the
// method BIDI_STREAMING; gRPC's sync server serves client-streaming and bidi
// methods alike (no request read ahead).
//
// Thread-safety: a ClientStream belongs to its call's thread; the functions
// are reentrant.
#pragma once

#include <grpcpp/impl/call.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/method_handler.h>
#include <grpcpp/support/sync_stream.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "server/rpc/common/status_mapping.h"
#include "server/rpc/common/stream_messages.h"

namespace hartonomous::rpc {
// Names the raw request stream in gRPC's handler templates (never a value).
struct RawStreamMessages;
}  // namespace hartonomous::rpc

// The request stream of one client-streaming call, message by message, with
// the receive's own success flag. It is gRPC's ServerReader specialized for
// raw messages: gRPC's ClientStreamingHandler constructs it for the call, and
// as a ServerReader it may wait on the call's completion queue as the typed
// reader does.
template <>
class grpc::ServerReader<hartonomous::rpc::RawStreamMessages> final
    : public hartonomous::rpc::StreamSource {
 public:
  ServerReader(grpc::internal::Call* call, grpc::ServerContext* context)
      : call_(call), context_(context) {}
  ServerReader(const ServerReader&) = delete;
  ServerReader& operator=(const ServerReader&) = delete;

  // The next message's bytes; false at the end of the stream, whatever ended it.
  bool Next(std::string* bytes) override;
  // REQUIRES: Next() returned false. True only when the stream ended with the
  // client's half-close (not a cancel, disconnect, deadline or failed receive).
  bool HalfClosed() const;

 private:
  grpc::internal::Call* const call_;
  grpc::ServerContext* const context_;
  bool receive_failed_ = false;
};

namespace hartonomous::rpc {

using ClientStream = grpc::ServerReader<RawStreamMessages>;

// Reads the whole stream (see the file comment), passing each message to
// on_message. OK only after the client's half-close with at least one message.
grpc::Status ReadClientStream(grpc::ServerContext* context, ClientStream* stream,
                              const StreamLimits& limits, google::protobuf::Message& scratch,
                              const StreamMessageHandler& on_message);

// The form the handlers use: each message, parsed as Request, goes to
// collector.Add; after a normal end, collector.Finish. OK only when both
// accepted the stream.
template <typename Request>
grpc::Status ReadClientStream(grpc::ServerContext* context, ClientStream* stream,
                              const StreamLimits& limits, StreamCollector<Request>& collector) {
  Request scratch;
  grpc::Status read = ReadClientStream(
      context, stream, limits, scratch,
      [&](google::protobuf::Message&, size_t index) { return collector.Add(scratch, index); });
  if (!read.ok()) return read;
  return ToGrpcStatus(collector.Finish());
}

// A received message's bytes in *bytes (the buffer is emptied); false when
// they cannot be read (a failed receive). Shared with the callback reader
// (client_stream_reactor.h).
bool FlattenMessage(grpc::ByteBuffer& buffer, std::string* bytes);
// The statuses of a stream that ended before the client's half-close, and
// of one that carried no message (see the file comment).
grpc::Status StreamCutStatus();
grpc::Status EmptyStreamStatus();

// The position of `method` in the service's descriptor, which is the index
// the generated Service registered it under. Aborts (a wiring mistake, met
// at start-up by any test) when the service or the client-streaming method
// does not exist.
int ClientStreamMethodIndex(std::string_view service_full_name, std::string_view method);

// The sync handler that gives service->*method the call's ClientStream;
// gRPC's own handler, which also sends the response and the status. Owned by
// the service after MarkMethodStreamed.
template <typename Service, typename Response>
using ClientStreamHandler =
    grpc::internal::ClientStreamingHandler<Service, RawStreamMessages, Response>;

}  // namespace hartonomous::rpc
