// A request that does not parse gets INVALID_ARGUMENT saying so, for every
// method of every service, and the daemon keeps serving.
#include <google/protobuf/descriptor.h>

#include <catch2/catch.hpp>
#include <string>

#include "daemon_harness.h"
#include "raw_rpc.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

// The status of one call of `method` whose request is `bytes`.
grpc::Status CallWithBytes(const std::shared_ptr<grpc::Channel>& channel,
                           const google::protobuf::MethodDescriptor& method,
                           const std::string& bytes) {
  const std::string path = "/" + method.service()->full_name() + "/" + method.name();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (method.client_streaming()) {
    // Client streams (IngestAtoms, ...): the bad message first (a bad later
    // message is client_stream_test.cc's).
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

}  // namespace

TEST_CASE("garbage request bytes get INVALID_ARGUMENT naming the request type, on every method",
          "[unparsed]") {
  Daemon daemon;
  const auto before = TableEntries(daemon.client());
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  int methods = 0;
  for (const char* name : {"hartonomous.v1.AtomService", "hartonomous.v1.SearchService",
                           "hartonomous.v1.ModelService", "hartonomous.v1.AdminService",
                           "grpc.health.v1.Health"}) {
    const auto* service = pool->FindServiceByName(name);
    REQUIRE(service != nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      const auto& method = *service->method(i);
      if (method.client_streaming() && method.server_streaming()) continue;  // none today
      INFO(method.full_name());
      grpc::Status status = CallWithBytes(daemon.client().channel(), method, kUnparsableBytes);
      CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK_THAT(status.error_message(),
                 Catch::Contains("does not parse as " + method.input_type()->full_name()));
      ++methods;
    }
  }
  CHECK(methods > 30);
  CHECK(TableEntries(daemon.client()) == before);
  // Still serving.
  v1::IngestAtomResponse ingested;
  REQUIRE(daemon.client().IngestAtom(TextAtom("after the garbage"), &ingested).ok());
  CHECK(ingested.created());
}
