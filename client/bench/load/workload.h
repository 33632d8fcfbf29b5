// Workload: one kind of request hartonomous-bench sends (search, ingest
// atoms, log inference, ...).
//
// Prepare runs once before the clock starts, through the blocking client (it
// creates collections, loads vectors, ingests atoms to read back). Start
// sends request number seq through the asynchronous (callback) API and
// returns at once; done is called exactly once, from a gRPC thread, with the
// call's status and the number of items it carried (atoms, queries, ...).
//
// Thread-safety: Start is called from the driver's dispatch thread only, but
// its done callbacks run on gRPC threads concurrently; a workload keeps no
// state that a call mutates after Prepare.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hartonomous/client.h"

namespace hartonomous::bench {

// The stubs of one channel: the generic stub for unary workloads (see
// unary_workload.h), typed stubs for client streams.
struct Stubs {
  explicit Stubs(const std::shared_ptr<grpc::Channel>& channel)
      : generic(std::make_unique<grpc::GenericStub>(channel)),
        atoms(v1::AtomService::NewStub(channel)),
        models(v1::ModelService::NewStub(channel)) {}
  std::unique_ptr<grpc::GenericStub> generic;  // unary calls as bytes
  std::unique_ptr<v1::AtomService::Stub> atoms;
  std::unique_ptr<v1::ModelService::Stub> models;
};

using CallDone = std::function<void(const grpc::Status& status, uint64_t items)>;

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string name() const = 0;
  // Readies the server; an error stops the run before any timing.
  virtual grpc::Status Prepare(Client& client) = 0;
  // Sends request seq on stubs with context (deadline already set).
  virtual void Start(uint64_t seq, Stubs& stubs, std::unique_ptr<grpc::ClientContext> context,
                     CallDone done) = 0;
  // A serialized request a tool outside this program can send (h2load):
  // request seq of this workload, with its full method path. False when the
  // workload is not unary.
  virtual bool Serialize(uint64_t seq, std::string* method, std::string* request) const {
    return false;
  }
};

}  // namespace hartonomous::bench
