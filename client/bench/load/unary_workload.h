// UnaryWorkload: a workload of unary calls whose requests are built and
// serialized once, in Prepare, and then sent as bytes through gRPC's generic
// stub, responses left unparsed. A run therefore spends its client CPU on
// the transport, not on building protobufs, as an independent load tool
// (h2load) does with its prepared frames. Requests repeat with the
// workload's period: request seq is request seq % Period().
//
// Thread-safety: the prepared buffers are immutable after Prepare; each call
// sends its own copy (gRPC byte buffers share their slices by reference
// count).
#pragma once

#include <grpcpp/generic/generic_stub.h>

#include <string>
#include <vector>

#include "workload.h"

namespace hartonomous::bench {

class UnaryWorkload : public Workload {
 public:
  grpc::Status Prepare(Client& client) final;
  void Start(uint64_t seq, Stubs& stubs, std::unique_ptr<grpc::ClientContext> context,
             CallDone done) final;
  bool Serialize(uint64_t seq, std::string* method, std::string* request) const final;

 protected:
  // The full method path, e.g. "/hartonomous.v1.SearchService/Search".
  virtual std::string Method() const = 0;
  // Readies the server and the data RequestBytes reads.
  virtual grpc::Status PrepareData(Client& client) = 0;
  // Distinct requests; RequestBytes is called for seq in [0, Period()).
  virtual size_t Period() const = 0;
  virtual std::string RequestBytes(uint64_t seq) const = 0;
  // Items one successful call carries (queries of a batch, ...).
  virtual uint64_t ItemsPerCall() const { return 1; }

 private:
  std::vector<grpc::ByteBuffer> requests_;
};

}  // namespace hartonomous::bench
