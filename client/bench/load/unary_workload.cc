#include "unary_workload.h"

#include <grpcpp/support/byte_buffer.h>

namespace hartonomous::bench {

grpc::Status UnaryWorkload::Prepare(Client& client) {
  grpc::Status prepared = PrepareData(client);
  if (!prepared.ok()) return prepared;
  const size_t period = Period();
  if (period == 0) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, name() + ": no request to send");
  }
  requests_.clear();
  requests_.reserve(period);
  for (size_t seq = 0; seq < period; ++seq) {
    const std::string bytes = RequestBytes(seq);
    grpc::Slice slice(bytes);
    requests_.emplace_back(&slice, 1);
  }
  return grpc::Status::OK;
}

void UnaryWorkload::Start(uint64_t seq, Stubs& stubs, std::unique_ptr<grpc::ClientContext> context,
                          CallDone done) {
  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    grpc::ByteBuffer request, response;
    CallDone done;
    uint64_t items;
  };
  auto* call = new Call{std::move(context), requests_[seq % requests_.size()], grpc::ByteBuffer(),
                        std::move(done), ItemsPerCall()};
  stubs.generic->UnaryCall(call->context.get(), Method(), grpc::StubOptions(), &call->request,
                           &call->response, [call](grpc::Status status) {
                             call->done(status, status.ok() ? call->items : 0);
                             delete call;
                           });
}

bool UnaryWorkload::Serialize(uint64_t seq, std::string* method, std::string* request) const {
  *method = Method();
  *request = RequestBytes(seq);
  return true;
}

}  // namespace hartonomous::bench
