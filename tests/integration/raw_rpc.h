// Raw-bytes gRPC calls for tests that send what the typed stubs cannot
// (messages that do not parse) and server state probes through GetStats.
#pragma once

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/support/sync_stream.h>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "hartonomous/client.h"

namespace hartonomous::testing {

// Bytes that parse as no message: field 1, length-delimited, announcing 100
// bytes of which only 2 follow.
inline const std::string kUnparsableBytes("\x0a\x64\x01\x02", 4);

inline grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// The status of one call of `method` whose request is `bytes` (a client
// stream sends it as its one message), with "authorization: <authorization>"
// metadata when that is not empty. Responses are read and dropped.
inline grpc::Status CallMethodWithBytes(const std::shared_ptr<grpc::Channel>& channel,
                                        const google::protobuf::MethodDescriptor& method,
                                        const std::string& bytes,
                                        const std::string& authorization = "") {
  const std::string path = "/" + method.service()->full_name() + "/" + method.name();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  if (method.client_streaming()) {
    grpc::ByteBuffer response;
    std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> writer(
        grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(
            channel.get(),
            grpc::internal::RpcMethod(path.c_str(), grpc::internal::RpcMethod::CLIENT_STREAMING),
            &context, &response));
    writer->Write(ToByteBuffer(bytes));
    writer->WritesDone();
    return writer->Finish();
  }
  if (method.server_streaming()) {
    std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
        grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
            channel.get(),
            grpc::internal::RpcMethod(path.c_str(), grpc::internal::RpcMethod::SERVER_STREAMING),
            &context, ToByteBuffer(bytes)));
    grpc::ByteBuffer message;
    while (reader->Read(&message)) {
    }
    return reader->Finish();
  }
  grpc::ByteBuffer response;
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(), grpc::internal::RpcMethod(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC),
      &context, ToByteBuffer(bytes), &response);
}

// One client-streaming call by method path ("/hartonomous.v1.AtomService/
// IngestAtoms"), writing raw bytes as messages.
class RawClientStream {
 public:
  RawClientStream(const std::shared_ptr<grpc::Channel>& channel, std::string method)
      : method_(std::move(method)) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    writer_.reset(grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(
        channel.get(),
        grpc::internal::RpcMethod(method_.c_str(), grpc::internal::RpcMethod::CLIENT_STREAMING),
        &context_, &response_));
  }
  // False once the server has ended the call.
  bool Write(const std::string& bytes) { return writer_->Write(ToByteBuffer(bytes)); }
  bool Write(const google::protobuf::Message& message) {
    return Write(message.SerializeAsString());
  }
  // Half-closes and waits for the status.
  grpc::Status Finish() {
    writer_->WritesDone();
    return writer_->Finish();
  }
  // Cancels without half-closing and waits for the (local) status.
  grpc::Status Cancel() {
    context_.TryCancel();
    return writer_->Finish();
  }

 private:
  std::string method_;
  grpc::ClientContext context_;
  grpc::ByteBuffer response_;
  std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> writer_;
};

// One bidi-streaming call by method path, its messages given and taken as
// any protobuf message (a DynamicMessage, or one of a library's generated
// types whose header is not installed).
class RawBidiStream {
 public:
  // authorization: sent as the "authorization" metadata when not empty.
  RawBidiStream(const std::shared_ptr<grpc::Channel>& channel, std::string method,
                const std::string& authorization = "")
      : method_(std::move(method)) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!authorization.empty()) context_.AddMetadata("authorization", authorization);
    stream_.reset(
        grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
            channel.get(),
            grpc::internal::RpcMethod(method_.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING),
            &context_));
  }
  bool Write(const google::protobuf::Message& message) {
    return stream_->Write(ToByteBuffer(message.SerializeAsString()));
  }
  // False at the end of the stream or when the bytes do not parse as message.
  bool Read(google::protobuf::Message* message) {
    grpc::ByteBuffer buffer;
    if (!stream_->Read(&buffer)) return false;
    std::vector<grpc::Slice> slices;
    if (!buffer.Dump(&slices).ok()) return false;
    std::string bytes;
    for (const auto& slice : slices)
      bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    return message->ParseFromString(bytes);
  }
  // Half-closes and waits for the status.
  grpc::Status Finish() {
    stream_->WritesDone();
    return stream_->Finish();
  }

 private:
  std::string method_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream_;
};

inline v1::ServerStats Stats(Client& client) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::GetStatsRequest request;
  v1::ServerStats stats;
  grpc::Status status = client.admin().GetStats(&context, request, &stats);
  if (!status.ok()) throw std::runtime_error("GetStats: " + status.error_message());
  return stats;
}

// Entries of every table: equal before and after a failed call means the
// call stored nothing.
inline std::map<std::string, uint64_t> TableEntries(Client& client) {
  std::map<std::string, uint64_t> entries;
  const v1::ServerStats stats = Stats(client);
  for (const auto& table : stats.tables()) entries[table.name()] = table.entries();
  return entries;
}

// Returns once the server runs no call but the GetStats asking, i.e. every
// earlier call (also one whose client went away) has ended on the server.
// Each probe is a round trip; gives up after 30 s.
inline void WaitForServerCallsToEnd(Client& client) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Stats(client).in_flight_calls() > 1) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("calls still running on the server after 30 s");
    }
  }
}

// Returns once the server runs at least n calls besides the GetStats asking.
inline void WaitForServerCalls(Client& client, uint64_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Stats(client).in_flight_calls() < n + 1) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("the server did not start the calls within 30 s");
    }
  }
}

}  // namespace hartonomous::testing
