// Daemon: hartonomousd's composition root. It builds the whole server from a
// DaemonConfig, in one fixed order, registers the engines' cascade hooks in
// one place (Wire), serves, and stops in the reverse order. main() parses the
// flags and calls Start and Run; nothing else constructs engines or services.
//
// Order of Start (each step only after the previous one succeeded):
//   1. the data-dir lock (one daemon per data dir),
//   2. the LMDB environment and its tables, the page-token key,
//   3. the WriteBatcher (the single writer thread),
//   4. the engines: AtomEngine; EmbeddingEngine, not loaded yet; AtomPoints,
//      from its snapshot of the last clean stop; PolicyEngine, with the
//      default policies; DedupMatcher; DocumentEngine; GraphEngine;
//      ModelEngine; Compactor; ConsistencyChecker,
//   5. Wire(): the hooks between engines (what an atom's removal cascades
//      to, what a model's deletion cascades to, the dedup matcher of
//      ingest),
//   6. the rpc services, AtomService, SearchService and ModelService behind
//      the start-up gate (rpc::StartupGate), AdminService and health,
//   7. the metrics port (--metrics-listen: /metrics and /status over HTTP,
//      server/http/http_endpoint.h), logged as "metrics on http://HOST:PORT/
//      metrics",
//   8. the gRPC server (rpc::BuildGrpcServer), listening, with every call
//      reported to the RPC metrics and the request log (failed calls and
//      calls slower than --slow-request-ms at warn); then
//      "hartonomousd listening on HOST:PORT" on stdout (with an empty
//      config.listen: no port and no such line; InProcessChannel only).
// A Start that fails returns the Status of the step that failed and releases
// what it had built in the reverse order (so the lock is free again).
//
// Run: the catch-up of the vector indexes (EmbeddingEngine::Load) while the
// gate answers UNAVAILABLE and health NOT_SERVING; then the gate opens and
// health reports SERVING until SIGINT, SIGTERM or RequestStop(). The stop, in
// the reverse order of Start: health NOT_SERVING and the drain of in-flight
// calls (at most 10 s), the gRPC server shut down, the vector indexes' final
// snapshots (EmbeddingEngine::Stop, while the writer still runs), the atom
// points' snapshot, the writer stopped after its queue. The destructor then
// releases the services, engines, writer, LMDB and the lock: members are
// declared in construction order, so they are destroyed in reverse.
//
// Signals: SIGINT and SIGTERM must be blocked in every thread (main blocks
// them before any thread starts); the daemon reads them from a signalfd. A
// second signal is ignored.
//
// Thread-safety: Start, Run and the destructor on one thread; RequestStop
// from any thread, any number of times.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/daemon_config.h"

namespace grpc {
class Channel;
class Server;
class Service;
}  // namespace grpc

namespace hartonomous {

class DataDirLock;
class CallThreads;
class WorkPool;

namespace storage {
class Env;
struct Tables;
class WriteBatcher;
}  // namespace storage

namespace engine {
class ApiKeyEngine;
class AtomEngine;
class AtomPoints;
class Compactor;
class ConsistencyChecker;
class DedupMatcher;
class DocumentEngine;
class EmbeddingEngine;
class GraphEngine;
class ModelEngine;
class InferenceEngine;
class PolicyEngine;
}  // namespace engine

namespace metrics {
class ServerMetrics;
class StateMetrics;
class StatusCollector;
}  // namespace metrics

namespace http {
class HttpEndpoint;
}  // namespace http

namespace rpc {
struct FinishedCall;
class AdminServiceImpl;
class AtomServiceImpl;
class AuthGate;
class CallLimit;
class HealthServiceImpl;
class InFlightCalls;
class ModelServiceImpl;
class InferenceServiceImpl;
class SearchServiceImpl;
class StartupGate;
}  // namespace rpc

class Daemon {
 public:
  // Builds everything and listens (see the file comment). The Status of
  // the failed step otherwise, e.g. FailedPrecondition "--data-dir DIR: in
  // use by another hartonomousd (pid N); ..." or Unavailable "--listen ADDR:
  // cannot listen there (address in use or invalid)".
  static Result<std::unique_ptr<Daemon>> Start(const DaemonConfig& config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Catches up, serves until a stop signal or RequestStop(), then stops.
  // Returns the process exit code: 0 after a clean stop (also one during
  // the catch-up), 1 when the catch-up failed. REQUIRES: called once.
  int Run();

  // Stops the daemon as SIGTERM does (drain, then Run returns), also before
  // Run is called. Thread-safe, idempotent.
  void RequestStop();

  // The listening address with the bound port, e.g. "127.0.0.1:43117";
  // "" when config.listen is empty (no port).
  const std::string& address() const { return address_; }
  // A channel to this daemon's gRPC server inside the process, without a
  // network: the calls run the same interceptors, gates and handlers as
  // from a client on the port (but peer and TLS are those of an in-process
  // call). No size limit on the messages it sends or receives. Valid until
  // the daemon is destroyed; calls after the stop fail UNAVAILABLE.
  std::shared_ptr<grpc::Channel> InProcessChannel() const;
  // The metrics port's address with its bound port; "" when off.
  const std::string& metrics_address() const { return metrics_address_; }
  int port() const { return port_; }

 private:
  class StopWaiter;

  explicit Daemon(const DaemonConfig& config);

  // The steps of Start, in order.
  Status OpenStorage();
  Status BuildEngines();
  void Wire();
  Status BuildServices();
  Status Listen();
  Status ServeMetrics();
  // The RPC metrics and the request log of one finished call.
  void OnCallFinished(const rpc::FinishedCall& call);

  // Run's parts: the start-up catch-up (false when it failed or was
  // stopped), the drain after a stop request, the engines' stop.
  bool CatchUp();
  void Drain(const std::string& why);
  void StopStorage();
  // DIR/atom_points.snap
  std::string AtomPointsPath() const;

  const DaemonConfig config_;
  const int64_t started_at_us_;
  std::unique_ptr<StopWaiter> stop_;
  // Metrics: before the writer, which records its commits in them.
  std::unique_ptr<metrics::ServerMetrics> metrics_;
  // Storage.
  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<storage::Env> env_;
  std::unique_ptr<storage::Tables> tables_;
  std::string page_token_key_;
  std::unique_ptr<storage::WriteBatcher> writer_;
  // Engines.
  std::unique_ptr<engine::AtomEngine> atoms_;
  std::unique_ptr<engine::EmbeddingEngine> embeddings_;
  std::unique_ptr<engine::AtomPoints> atom_points_;
  std::unique_ptr<engine::PolicyEngine> policies_;
  std::unique_ptr<engine::DedupMatcher> matcher_;
  std::unique_ptr<engine::DocumentEngine> documents_;
  std::unique_ptr<engine::GraphEngine> graph_;
  std::unique_ptr<engine::ModelEngine> models_;
  std::unique_ptr<engine::Compactor> compactor_;
  std::unique_ptr<engine::ConsistencyChecker> checker_;
  std::unique_ptr<engine::InferenceEngine> inference_;
  std::unique_ptr<engine::ApiKeyEngine> api_keys_;
  // Services. The work pool outlives the server: a call ends on it.
  std::unique_ptr<WorkPool> work_;
  // The long calls' threads (--max-threads); they outlive the server too.
  std::unique_ptr<CallThreads> long_calls_;
  std::unique_ptr<rpc::InFlightCalls> in_flight_;
  std::unique_ptr<rpc::StartupGate> startup_;
  std::unique_ptr<rpc::AuthGate> auth_;
  // The services checked by auth_, which the gated_* ones wrap in turn.
  std::vector<std::unique_ptr<grpc::Service>> authorized_;
  std::unique_ptr<rpc::AtomServiceImpl> atom_service_;
  std::unique_ptr<rpc::SearchServiceImpl> search_service_;
  std::unique_ptr<rpc::ModelServiceImpl> model_service_;
  std::unique_ptr<rpc::AdminServiceImpl> admin_service_;
  std::unique_ptr<rpc::HealthServiceImpl> health_service_;
  std::unique_ptr<grpc::Service> gated_atoms_;
  std::unique_ptr<grpc::Service> gated_search_;
  std::unique_ptr<grpc::Service> gated_models_;
  std::unique_ptr<rpc::InferenceServiceImpl> inference_service_;
  std::unique_ptr<grpc::Service> gated_inference_;
  grpc::Service* authorized_admin_ = nullptr;  // in authorized_
  std::unique_ptr<rpc::CallLimit> call_limit_;
  // What is registered: atoms, search, models, admin, inference, each
  // gated and checked, wrapped in the call limit.
  std::vector<std::unique_ptr<grpc::Service>> limited_;
  std::unique_ptr<std::function<void(const rpc::FinishedCall&)>> call_observer_;
  std::unique_ptr<metrics::StateMetrics> state_metrics_;
  std::unique_ptr<metrics::StatusCollector> status_;
  // Server.
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string address_;
  // The metrics port: last, so that it stops first.
  std::unique_ptr<http::HttpEndpoint> http_;
  std::string metrics_address_;
  bool ran_ = false;
};

}  // namespace hartonomous
