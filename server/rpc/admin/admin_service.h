// AdminServiceImpl: hartonomous.v1.AdminService (server statistics). Safe
// during start-up: it reads only LMDB, the writer's counters and the
// start-up gate, never an index.
//
// Thread-safety: thread-safe.
#pragma once

#include "hartonomous/v1/admin_service.grpc.pb.h"
#include "server/rpc/interceptors/in_flight.h"
#include "server/rpc/interceptors/startup_gate.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/write_batcher.h"

namespace hartonomous::rpc {

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  AdminServiceImpl(storage::Env& env, const storage::Tables& tables,
                   const storage::WriteBatcher& writer, const InFlightCalls& in_flight,
                   int64_t started_at_us, const StartupGate* startup = nullptr)
      : env_(env),
        tables_(tables),
        writer_(writer),
        in_flight_(in_flight),
        started_at_us_(started_at_us),
        startup_(startup) {}

  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest* request,
                        v1::ServerStats* response) override;

 private:
  storage::Env& env_;
  const storage::Tables& tables_;
  const storage::WriteBatcher& writer_;
  const InFlightCalls& in_flight_;
  const int64_t started_at_us_;
  const StartupGate* const startup_;  // null: always "serving"
};

}  // namespace hartonomous::rpc
