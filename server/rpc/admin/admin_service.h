// AdminServiceImpl: hartonomous.v1.AdminService (server statistics,
// compaction, backup, consistency checks and API keys; the key RPCs are in
// api_key_rpc.cc). GetStats is safe during start-up: it reads only LMDB, the
// writer's counters and the start-up gate, never an index. Compact, Backup
// and CheckConsistency answer UNAVAILABLE until the start-up gate opens.
//
// Thread-safety: thread-safe.
#pragma once

#include <string>
#include <utility>

#include "hartonomous/v1/admin_service.grpc.pb.h"
#include "server/engine/admin/compactor.h"
#include "server/engine/admin/consistency_checker.h"
#include "server/engine/auth/api_key_engine.h"
#include "server/rpc/common/long_call.h"
#include "server/rpc/common/unary_callback.h"
#include "server/rpc/interceptors/in_flight.h"
#include "server/rpc/interceptors/startup_gate.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {
class EmbeddingEngine;
}  // namespace hartonomous::engine

namespace hartonomous::rpc {

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  AdminServiceImpl(storage::Env& env, const storage::Tables& tables,
                   const storage::WriteBatcher& writer, const InFlightCalls& in_flight,
                   CallThreads& long_calls, int64_t started_at_us,
                   const StartupGate* startup = nullptr, engine::Compactor* compactor = nullptr,
                   engine::EmbeddingEngine* embeddings = nullptr, std::string data_dir = "")
      : env_(env),
        tables_(tables),
        writer_(writer),
        in_flight_(in_flight),
        started_at_us_(started_at_us),
        startup_(startup),
        compactor_(compactor),
        embeddings_(embeddings),
        data_dir_(std::move(data_dir)) {
    // Unary reads are served through the callback API (unary_callback.h),
    // and so are the key writes, answered from their commit
    // (CallbackUnaryAsync); Compact, Backup and CheckConsistency run on a
    // thread of their own (long_call.h).
    MarkMethodCallback(UnaryMethodIndex(v1::AdminService::service_full_name(), "Compact"),
                       CallbackLongUnary(&AdminServiceImpl::Compact, this, &long_calls));
    MarkMethodCallback(UnaryMethodIndex(v1::AdminService::service_full_name(), "Backup"),
                       CallbackLongUnary(&AdminServiceImpl::Backup, this, &long_calls));
    MarkMethodCallback(UnaryMethodIndex(v1::AdminService::service_full_name(), "CheckConsistency"),
                       CallbackLongUnary(&AdminServiceImpl::CheckConsistency, this, &long_calls));
    MarkMethodCallback(UnaryMethodIndex(v1::AdminService::service_full_name(), "CreateApiKey"),
                       CallbackUnaryAsync(&AdminServiceImpl::CreateApiKey, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AdminService::service_full_name(), "RevokeApiKey"),
                       CallbackUnaryAsync(&AdminServiceImpl::RevokeApiKey, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AdminService::service_full_name(), "GetStats"),
                       CallbackUnary(&AdminServiceImpl::GetStats, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AdminService::service_full_name(), "ListApiKeys"),
                       CallbackUnary(&AdminServiceImpl::ListApiKeys, this));
  }

  grpc::Status GetStats(grpc::ServerContextBase*, const v1::GetStatsRequest* request,
                        v1::ServerStats* response);
  grpc::Status Compact(grpc::ServerContextBase*, const v1::CompactRequest* request,
                       v1::CompactResponse* response);
  grpc::Status Backup(grpc::ServerContextBase*, const v1::BackupRequest* request,
                      v1::BackupResponse* response);
  // The key writes are answered after their group commit, by finish.
  void CreateApiKey(grpc::ServerContextBase*, const v1::CreateApiKeyRequest* request,
                    v1::CreateApiKeyResponse* response, UnaryFinish finish);
  grpc::Status ListApiKeys(grpc::ServerContextBase*, const v1::ListApiKeysRequest* request,
                           v1::ListApiKeysResponse* response);
  void RevokeApiKey(grpc::ServerContextBase*, const v1::RevokeApiKeyRequest* request,
                    v1::ApiKey* response, UnaryFinish finish);

  // The API keys the key RPCs manage; until set they are UNIMPLEMENTED.
  // REQUIRES: called before serving; keys outlives the service.
  void SetApiKeys(engine::ApiKeyEngine* keys) { api_keys_ = keys; }

  grpc::Status CheckConsistency(grpc::ServerContextBase*,
                                const v1::CheckConsistencyRequest* request,
                                v1::CheckConsistencyResponse* response);

  // Wires CheckConsistency (UNIMPLEMENTED until set). REQUIRES: called
  // before the server starts; checker outlives the service.
  void set_consistency_checker(engine::ConsistencyChecker* checker) { checker_ = checker; }

 private:
  storage::Env& env_;
  const storage::Tables& tables_;
  const storage::WriteBatcher& writer_;
  const InFlightCalls& in_flight_;
  const int64_t started_at_us_;
  const StartupGate* const startup_;           // null: always "serving"
  engine::Compactor* const compactor_;         // null: Compact is UNIMPLEMENTED
  engine::EmbeddingEngine* const embeddings_;  // null: Backup is UNIMPLEMENTED
  const std::string data_dir_;
  engine::ApiKeyEngine* api_keys_ = nullptr;
  engine::ConsistencyChecker* checker_ = nullptr;
};

}  // namespace hartonomous::rpc
