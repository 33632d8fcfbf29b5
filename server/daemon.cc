#include "server/daemon.h"

#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "base/call_threads.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/scan_workers.h"
#include "base/work_pool.h"
#include "server/data_dir_lock.h"
#include "server/engine/admin/compactor.h"
#include "server/engine/admin/consistency_checker.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/atoms/atom_points.h"
#include "server/engine/auth/api_key_engine.h"
#include "server/engine/dedup/dedup_matcher.h"
#include "server/engine/dedup/policy_engine.h"
#include "server/engine/documents/document_engine.h"
#include "server/engine/documents/document_sources.h"
#include "server/engine/graph/graph_engine.h"
#include "server/engine/inference/inference_engine.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/model_import.h"
#include "server/engine/vectors/embedding_engine.h"
#include "server/http/http_endpoint.h"
#include "server/logging.h"
#include "server/metrics/prometheus_text.h"
#include "server/metrics/server_metrics.h"
#include "server/metrics/state_metrics.h"
#include "server/metrics/status_page.h"
#include "server/metrics/status_report.h"
#include "server/rpc/admin/admin_service.h"
#include "server/rpc/admin/health_service.h"
#include "server/rpc/atom/atom_service.h"
#include "server/rpc/inference/inference_service.h"
#include "server/rpc/interceptors/auth_gate.h"
#include "server/rpc/interceptors/call_limit.h"
#include "server/rpc/interceptors/in_flight.h"
#include "server/rpc/interceptors/rpc_observer.h"
#include "server/rpc/interceptors/startup_gate.h"
#include "server/rpc/model/model_service.h"
#include "server/rpc/search/search_service.h"
#include "server/rpc/server_builder.h"
#include "server/tls_files.h"
#include "server/version.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/tables/schema_migration.h"
#include "storage/write_batcher.h"

namespace hartonomous {
namespace {

constexpr auto kDrainDeadline = std::chrono::seconds(10);

// Testing only (--testing-hold-start-until): waits until `path` exists or
// shutdown begins.
void HoldUntilExists(const std::string& path, const rpc::StartupGate& startup) {
  spdlog::info("start-up held until {} exists (testing only)", path);
  std::error_code ec;
  while (!std::filesystem::exists(path, ec) &&
         startup.state() != rpc::StartupGate::State::kStopping) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status Errno(const std::string& what) {
  return Status::Internal(what + ": " + std::strerror(errno));
}

}  // namespace

// What ends serving: SIGINT or SIGTERM (read from a signalfd; main blocks
// both in every thread) or Request(), whichever comes first.
class Daemon::StopWaiter {
 public:
  static Result<std::unique_ptr<StopWaiter>> Create() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    const int signals = ::signalfd(-1, &set, SFD_CLOEXEC);
    if (signals < 0) return Errno("signalfd");
    const int requests = ::eventfd(0, EFD_CLOEXEC);
    if (requests < 0) {
      const Status failed = Errno("eventfd");
      ::close(signals);
      return failed;
    }
    return std::unique_ptr<StopWaiter>(new StopWaiter(signals, requests));
  }
  ~StopWaiter() {
    ::close(signals_);
    ::close(requests_);
  }
  StopWaiter(const StopWaiter&) = delete;
  StopWaiter& operator=(const StopWaiter&) = delete;

  // Thread-safe; the first reason is the one Wait returns.
  void Request(const std::string& why) {
    {
      MutexLock lock(&mu_);
      if (why_.empty()) why_ = why;
    }
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t written = ::write(requests_, &one, sizeof(one));
  }

  // Blocks until a stop signal or a Request; returns why ("received SIGTERM").
  std::string Wait() {
    pollfd fds[2] = {{signals_, POLLIN, 0}, {requests_, POLLIN, 0}};
    while (true) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        spdlog::error("waiting for a stop signal: {}", std::strerror(errno));
        return "poll failed";
      }
      if (fds[0].revents & POLLIN) {
        signalfd_siginfo info;
        if (::read(signals_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
          return info.ssi_signo == SIGINT ? "received SIGINT" : "received SIGTERM";
        }
      }
      if (fds[1].revents & POLLIN) {
        MutexLock lock(&mu_);
        return why_;
      }
    }
  }

 private:
  StopWaiter(int signals, int requests) : signals_(signals), requests_(requests) {}

  const int signals_;
  const int requests_;
  Mutex mu_;
  std::string why_ GUARDED_BY(mu_);
};

Daemon::Daemon(const DaemonConfig& config)
    : config_(config),
      started_at_us_(NowMicros()),
      metrics_(std::make_unique<metrics::ServerMetrics>()) {}

Result<std::unique_ptr<Daemon>> Daemon::Start(const DaemonConfig& config) {
  std::unique_ptr<Daemon> daemon(new Daemon(config));
  HT_ASSIGN_OR_RETURN(daemon->stop_, StopWaiter::Create());
  // Before any index exists: the indexes' scans share these helpers.
  if (config.scan_threads > 0) ScanWorkers::SetSharedHelpers(config.scan_threads - 1);
  HT_RETURN_IF_ERROR(daemon->OpenStorage());
  HT_RETURN_IF_ERROR(daemon->BuildEngines());
  daemon->Wire();
  HT_RETURN_IF_ERROR(daemon->BuildServices());
  HT_RETURN_IF_ERROR(daemon->ServeMetrics());
  HT_RETURN_IF_ERROR(daemon->Listen());
  return Result<std::unique_ptr<Daemon>>(std::move(daemon));
}

Daemon::~Daemon() {
  // Started but never run: stop serving before anything it serves from goes.
  if (server_ != nullptr && !ran_) {
    startup_->Stop();
    health_service_->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
  // The rest goes in the reverse order of construction (the members').
}

Status Daemon::OpenStorage() {
  HT_ASSIGN_OR_RETURN(lock_, DataDirLock::Acquire(config_.data_dir));
  storage::EnvOptions env_options;
  env_options.path = config_.data_dir;
  env_options.initial_map_size = config_.initial_map_bytes;
  HT_ASSIGN_OR_RETURN(env_, storage::Env::Open(env_options));
  uint32_t migrate_from = storage::kSchemaVersion;
  HT_ASSIGN_OR_RETURN(storage::Tables tables, storage::OpenTables(*env_, &migrate_from));
  tables_ = std::make_unique<storage::Tables>(tables);
  if (migrate_from < storage::kSchemaVersion) {
    spdlog::info("data dir {}: migrating from schema version {} to {}", config_.data_dir,
                 migrate_from, storage::kSchemaVersion);
    const auto started = std::chrono::steady_clock::now();
    HT_ASSIGN_OR_RETURN(
        storage::MigrationProgress done,
        storage::MigrateSchema(*env_, *tables_, migrate_from,
                               engine::DocumentEngine::ManifestHeaderSize,
                               [](const storage::MigrationProgress& p) {
                                 if (p.atoms_done % (100 * storage::kMigrationBatch) == 0) {
                                   spdlog::info("migration: {} atoms upgraded", p.atoms_done);
                                 }
                               }));
    spdlog::info("migration to schema version {} done: {} atoms in {:.1f} s",
                 storage::kSchemaVersion, done.atoms_done,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  HT_ASSIGN_OR_RETURN(page_token_key_, storage::ReadMeta(*env_, *tables_, "page_token_key"));
  storage::WriterOptions writer_options;
  writer_options.meta_table = tables_->meta;  // room after a full disk
  writer_options.on_commit = [m = metrics_.get()](size_t requests, double seconds) {
    m->RecordCommit(requests, seconds);
  };
  writer_ = std::make_unique<storage::WriteBatcher>(*env_, writer_options);
  return Status::Ok();
}

Status Daemon::BuildEngines() {
  HT_ASSIGN_OR_RETURN(const std::string bootstrap_admin_key, ReadAdminKey(config_));
  api_keys_ =
      std::make_unique<engine::ApiKeyEngine>(*env_, *tables_, *writer_, bootstrap_admin_key);
  HT_RETURN_IF_ERROR(api_keys_->Load());
  atoms_ = std::make_unique<engine::AtomEngine>(*env_, *tables_, *writer_, page_token_key_);
  // Vector indexes: loaded from their snapshots and caught up with LMDB once
  // the server listens (CatchUp).
  engine::EmbeddingEngineOptions vector_options;
  vector_options.snapshot_dir =
      (std::filesystem::path(config_.data_dir) / "vector_indexes").string();
  vector_options.snapshot_interval = std::chrono::seconds(config_.snapshot_interval_seconds);
  vector_options.projection_fit_after = config_.projection_fit_after;
  embeddings_ = engine::EmbeddingEngine::Create(*env_, *tables_, *writer_, vector_options);
  // Atoms' spatial keys: from the snapshot of the last clean stop, caught up
  // by the first spatial query.
  atom_points_ = std::make_unique<engine::AtomPoints>(*env_, *tables_);
  if (Status loaded = atom_points_->LoadSnapshot(AtomPointsPath());
      !loaded.ok() && loaded.code() != Status::Code::kNotFound) {
    spdlog::warn("atom spatial keys: snapshot unusable ({}); rebuilding from the atoms table",
                 loaded.ToString());
  }
  policies_ = std::make_unique<engine::PolicyEngine>(*env_, *tables_, *writer_, page_token_key_);
  HT_RETURN_IF_ERROR(policies_->EnsureDefaults());
  matcher_ = std::make_unique<engine::DedupMatcher>(*env_, *tables_, *policies_, *embeddings_);
  documents_ = std::make_unique<engine::DocumentEngine>(*env_, *tables_, *writer_);
  graph_ = std::make_unique<engine::GraphEngine>(*env_, *tables_, *writer_, page_token_key_);
  models_ = std::make_unique<engine::ModelEngine>(*env_, *tables_, *writer_, page_token_key_);
  engine::CompactorOptions compactor_options;
  compactor_options.testing_hold_until = config_.testing_hold_compaction_until;
  compactor_ = std::make_unique<engine::Compactor>(*env_, *writer_, *atoms_, compactor_options);
  checker_ =
      std::make_unique<engine::ConsistencyChecker>(*env_, *tables_, *writer_, embeddings_.get());
  // Inference logs, their analytics and the layers' cached activations.
  inference_ = std::make_unique<engine::InferenceEngine>(
      *env_, *tables_, *writer_, page_token_key_,
      engine::InferenceOptions{storage::SegmentPolicy{config_.inference_segment_rows},
                               config_.testing_prune_stop_after});
  return Status::Ok();
}

// Every hook between engines, in one place. Each runs inside the write
// transaction of the engine that calls it, so the cascade commits with the
// change or not at all. The hooks point at engines declared after AtomEngine,
// which are destroyed before it; that is safe because the server, the only
// caller, is shut down before any engine is destroyed.
void Daemon::Wire() {
  // Removing an atom (purge, a document's delete) removes what hangs off it,
  // in this order: its embeddings in every collection, then its spatial key.
  atoms_->AddDependentRemover([e = embeddings_.get()](storage::WriteTxn& txn, uint64_t atom_id) {
    return e->RemoveAtomEmbeddings(txn, atom_id);
  });
  atoms_->AddDependentRemover([p = atom_points_.get()](storage::WriteTxn& txn, uint64_t atom_id) {
    return p->OnRemove(txn, atom_id);
  });
  // ... and the document sources that hold it (a deleted or purged root).
  atoms_->AddDependentRemover([t = tables_.get()](storage::WriteTxn& txn, uint64_t atom_id) {
    return engine::DocumentSources(*t).RemoveAll(txn, atom_id);
  });
  // Deleting a model removes its layers, its metadata and its index entries
  // (ModelEngine itself); what other domains keep per model or per layer is
  // removed through ModelEngine::AddModelDependentRemover hooks registered
  // here, in the same transaction. (ModelEngine releases its own tensor
  // atoms.) Inference logs of a deleted model are kept.
  // Ingest with a policy (or an embedding) matches through the dedup matcher.
  atoms_->SetDedupMatcher(matcher_.get());
  // Deleting a model removes its layers' cached activations and their
  // lookup statistics (inference logs of the model are kept).
  models_->AddModelDependentRemover(
      [e = inference_.get()](storage::WriteTxn& txn, const storage::ModelRecord&,
                             const std::vector<storage::ModelLayerRecord>& layers) {
        return e->RemoveModelActivations(txn, layers);
      });
  // Deleting one layer removes its cached activations the same way.
  models_->AddLayerDependentRemover(
      [e = inference_.get()](storage::WriteTxn& txn, const storage::ModelLayerRecord& layer) {
        return e->RemoveModelActivations(txn, {layer});
      });
  // Tensor atoms a model write released that no one references any more
  // (a deleted model's, replaced layer values) are purged in that write,
  // by the atom engine's purge (their embeddings and other dependents go
  // with them).
  models_->SetAtomPurger(
      [a = atoms_.get()](storage::WriteTxn& txn,
                         const std::vector<uint64_t>& ids) -> Result<engine::PurgedAtoms> {
        HT_ASSIGN_OR_RETURN(engine::PurgeSummary summary, a->PurgeAtoms(txn, ids));
        return engine::PurgedAtoms{summary.atoms_purged, summary.bytes_freed};
      });
}

Status Daemon::BuildServices() {
  rpc::Limits limits{config_.max_content_bytes, config_.max_batch_bytes,
                     config_.max_response_bytes};
  rpc::SearchLimits search_limits;
  search_limits.max_k = static_cast<uint32_t>(config_.max_search_k);
  search_limits.max_response_bytes = config_.max_response_bytes;
  search_limits.max_stream_bytes = config_.max_batch_bytes;
  in_flight_ = std::make_unique<rpc::InFlightCalls>();
  startup_ = std::make_unique<rpc::StartupGate>();
  // A call has at most one item queued, and at most --max-concurrent-calls
  // calls run (plus health's, which take no work), so the pool refuses
  // nothing the call limit let in.
  size_t work_threads = config_.work_threads;
  if (work_threads == 0) {
    work_threads = std::max<size_t>(4, 2 * std::max(1u, std::thread::hardware_concurrency()));
  }
  work_ = std::make_unique<WorkPool>(work_threads, config_.max_concurrent_calls + 1, "ht-work");
  long_calls_ = std::make_unique<CallThreads>(config_.max_threads, "ht-long");
  atom_service_ = std::make_unique<rpc::AtomServiceImpl>(*atoms_, *policies_, *documents_, *graph_,
                                                         limits, *work_, *long_calls_);
  search_service_ = std::make_unique<rpc::SearchServiceImpl>(*embeddings_, *atom_points_,
                                                             search_limits, *work_, *long_calls_);
  rpc::ModelLimits model_limits;
  model_limits.max_response_bytes = config_.max_response_bytes;
  model_limits.max_model_bytes = config_.max_model_bytes;
  engine::ImportLimits import_limits;
  import_limits.max_onnx_bytes = config_.max_onnx_bytes;
  models_->SetImportLimits(import_limits);
  model_service_ =
      std::make_unique<rpc::ModelServiceImpl>(*models_, model_limits, *work_, *long_calls_);
  admin_service_ = std::make_unique<rpc::AdminServiceImpl>(
      *env_, *tables_, *writer_, *in_flight_, *long_calls_, started_at_us_, startup_.get(),
      compactor_.get(), embeddings_.get(), config_.data_dir);
  admin_service_->set_consistency_checker(checker_.get());
  health_service_ = std::make_unique<rpc::HealthServiceImpl>(std::set<std::string>{
      "hartonomous.v1.AtomService", "hartonomous.v1.SearchService", "hartonomous.v1.ModelService",
      "hartonomous.v1.AdminService", "hartonomous.v1.InferenceService"});
  admin_service_->SetApiKeys(api_keys_.get());
  rpc::InferenceLimits inference_limits;
  inference_limits.max_response_bytes = config_.max_response_bytes;
  inference_limits.max_stream_bytes = config_.max_batch_bytes;
  inference_service_ = std::make_unique<rpc::InferenceServiceImpl>(*inference_, inference_limits,
                                                                   *work_, *long_calls_);
  // Every service but health checks the caller's API key (rpc/interceptors/
  // auth_gate.h); until the catch-up is over all but AdminService answer
  // UNAVAILABLE with its progress, before the key is looked at.
  auth_ = std::make_unique<rpc::AuthGate>(*api_keys_);
  auto authorize = [&](grpc::Service& inner, const char* name) -> grpc::Service* {
    authorized_.push_back(auth_->Wrap(inner, name));
    return authorized_.back().get();
  };
  grpc::Service* atoms = authorize(*atom_service_, "hartonomous.v1.AtomService");
  grpc::Service* search = authorize(*search_service_, "hartonomous.v1.SearchService");
  grpc::Service* models = authorize(*model_service_, "hartonomous.v1.ModelService");
  grpc::Service* inference = authorize(*inference_service_, "hartonomous.v1.InferenceService");
  authorized_admin_ = authorize(*admin_service_, "hartonomous.v1.AdminService");
  for (const auto& service : authorized_) {
    if (service == nullptr) return Status::Internal("auth gate: service descriptor missing");
  }
  gated_atoms_ = startup_->Gate(*atoms, "hartonomous.v1.AtomService");
  gated_search_ = startup_->Gate(*search, "hartonomous.v1.SearchService");
  gated_models_ = startup_->Gate(*models, "hartonomous.v1.ModelService");
  gated_inference_ = startup_->Gate(*inference, "hartonomous.v1.InferenceService");
  if (gated_atoms_ == nullptr || gated_search_ == nullptr || gated_models_ == nullptr ||
      gated_inference_ == nullptr) {
    return Status::Internal("start-up gate: service descriptor missing");
  }
  // Outermost: a call beyond --max-concurrent-calls is refused before
  // anything else is looked at (rpc/interceptors/call_limit.h).
  call_limit_ = std::make_unique<rpc::CallLimit>(*in_flight_, config_.max_concurrent_calls);
  const std::pair<grpc::Service*, const char*> served[] = {
      {gated_atoms_.get(), "hartonomous.v1.AtomService"},
      {gated_search_.get(), "hartonomous.v1.SearchService"},
      {gated_models_.get(), "hartonomous.v1.ModelService"},
      {authorized_admin_, "hartonomous.v1.AdminService"},
      {gated_inference_.get(), "hartonomous.v1.InferenceService"}};
  for (const auto& [service, name] : served) {
    limited_.push_back(call_limit_->Wrap(*service, name));
    if (limited_.back() == nullptr)
      return Status::Internal("call limit: service descriptor missing");
  }
  return Status::Ok();
}

Status Daemon::Listen() {
  // Without keys the server is open to whoever reaches the port: only
  // loopback, unless the operator says otherwise.
  if (!api_keys_->enabled() && !config_.listen.empty() && !ListensOnLoopback(config_.listen)) {
    if (!config_.insecure) {
      return Status::FailedPrecondition(
          "--listen " + config_.listen +
          ": not a loopback address and no API key is configured, so anyone who reaches the "
          "port could do anything; set a bootstrap admin key (--admin-key-file or "
          "HARTONOMOUS_ADMIN_KEY) or pass --insecure");
    }
    spdlog::warn(
        "--insecure: listening on {} without authentication: anyone who reaches the port can "
        "read, write and administer this server",
        config_.listen);
  }
  rpc::GrpcServerOptions options;
  options.auth = auth_.get();
  if (!config_.tls_cert_file.empty()) {
    HT_RETURN_IF_ERROR(
        CheckTlsFiles(config_.tls_cert_file, config_.tls_key_file, config_.tls_client_ca_file));
    options.tls =
        rpc::GrpcTlsFiles{config_.tls_cert_file, config_.tls_key_file, config_.tls_client_ca_file,
                          static_cast<unsigned>(config_.tls_reload_seconds)};
  }
  options.listen = config_.listen;
  options.max_content_bytes = config_.max_content_bytes;
  options.max_threads = config_.max_threads;
  options.max_concurrent_streams = config_.max_concurrent_streams;
  options.stream_window_bytes = config_.stream_window_bytes;
  options.keepalive_seconds = config_.keepalive_seconds;
  options.keepalive_timeout_seconds = config_.keepalive_timeout_seconds;
  options.max_connection_idle_seconds = config_.max_connection_idle_seconds;
  options.max_connection_age_seconds = config_.max_connection_age_seconds;
  call_observer_ = std::make_unique<rpc::CallObserver>(
      [this](const rpc::FinishedCall& call) { OnCallFinished(call); });
  options.observer = call_observer_.get();
  HT_ASSIGN_OR_RETURN(
      rpc::GrpcServer built,
      rpc::BuildGrpcServer(options,
                           {limited_[0].get(), limited_[1].get(), limited_[2].get(),
                            limited_[3].get(), health_service_.get(), limited_[4].get()},
                           *in_flight_));
  server_ = std::move(built.server);
  port_ = built.port;
  address_ = std::move(built.address);
  if (config_.listen.empty()) {
    spdlog::info("hartonomousd {} serving in-process only (no port) with data dir {}; starting",
                 kVersion, config_.data_dir);
    return Status::Ok();
  }
  std::cout << "hartonomousd listening on " << address_ << std::endl;
  spdlog::info("hartonomousd {} listening on {} ({}) with data dir {}; starting", kVersion,
               address_,
               !options.tls                          ? "plaintext"
               : options.tls->client_ca_file.empty() ? "TLS"
                                                     : "mutual TLS",
               config_.data_dir);
  return Status::Ok();
}

Status Daemon::ServeMetrics() {
  state_metrics_ = std::make_unique<metrics::StateMetrics>(
      *env_, *tables_, *writer_, *atoms_, *embeddings_, started_at_us_,
      [s = startup_.get()] { return s->open(); });
  metrics_->AddCollector([s = state_metrics_.get()](std::string* out) { s->Collect(out); });
  metrics_->AddCollector([this](std::string* out) {
    metrics::AppendFamilyHeader(out, "hartonomous_calls_in_progress",
                                "Calls in progress (arrived, reply not yet sent), health included; "
                                "--max-concurrent-calls bounds it.",
                                "gauge");
    metrics::AppendSample(out, "hartonomous_calls_in_progress", {},
                          static_cast<double>(in_flight_->count()));
    metrics::AppendFamilyHeader(
        out, "hartonomous_calls_running",
        "Admitted calls whose handler runs on a gRPC callback thread now (a unary read's work; "
        "the start of a stream, a write or a long call, whose work goes on elsewhere).",
        "gauge");
    metrics::AppendSample(out, "hartonomous_calls_running", {},
                          static_cast<double>(call_limit_->running()));
    metrics::AppendFamilyHeader(out, "hartonomous_work_pool_items",
                                "Items of the work pool (--work-threads): queued (not started) "
                                "and running.",
                                "gauge");
    metrics::AppendSample(out, "hartonomous_work_pool_items", {{"state", "queued"}},
                          static_cast<double>(work_->queued()));
    metrics::AppendSample(out, "hartonomous_work_pool_items", {{"state", "running"}},
                          static_cast<double>(work_->running()));
    metrics::AppendFamilyHeader(out, "hartonomous_long_calls_running",
                                "Long maintenance calls running, a thread each; --max-threads "
                                "bounds it.",
                                "gauge");
    metrics::AppendSample(out, "hartonomous_long_calls_running", {},
                          static_cast<double>(long_calls_->running()));
  });
  if (config_.metrics_listen == "off") return Status::Ok();
  std::vector<http::Route> routes;
  routes.push_back({"/metrics", "text/plain; version=0.0.4; charset=utf-8",
                    [m = metrics_.get()] { return m->Render(); }});
  status_ = std::make_unique<metrics::StatusCollector>(
      *env_, *tables_, *writer_, *atoms_, *embeddings_, *models_, *metrics_, started_at_us_,
      [s = startup_.get()] {
        return std::pair<std::string, std::string>(
            rpc::StartupStateName(s->state()),
            s->state() == rpc::StartupGate::State::kServing ? "" : s->reason());
      },
      [s = startup_.get()] { return s->open(); });
  routes.push_back({"/status", "text/html; charset=utf-8",
                    [s = status_.get()] { return metrics::RenderStatusPage(s->Collect()); }});
  routes.push_back({"/status.json", "application/json",
                    [s = status_.get()] { return metrics::StatusJson(s->Collect()); }});
  HT_ASSIGN_OR_RETURN(http_, http::HttpEndpoint::Start(config_.metrics_listen, std::move(routes),
                                                       config_.metrics_token));
  metrics_address_ = http_->address();
  spdlog::info("metrics on http://{}/metrics", metrics_address_);
  spdlog::info("status page on http://{}/status", metrics_address_);
  return Status::Ok();
}

void Daemon::OnCallFinished(const rpc::FinishedCall& call) {
  metrics_->RecordRpc(call.method, call.code_name, call.seconds);
  const bool failed = call.code != 0;
  const bool slow = config_.slow_request_ms > 0 &&
                    call.seconds * 1000 > static_cast<double>(config_.slow_request_ms);
  if (!failed && !slow) return;
  LogFields fields = {{"method", call.method},
                      {"status", call.code_name},
                      {"peer", call.peer},
                      {"duration_ms", fmt::format("{:.3f}", call.seconds * 1000)},
                      {"request_id", call.request_id}};
  if (failed) fields.emplace_back("error", call.message);
  LogEvent(spdlog::level::warn, failed ? "rpc failed" : "slow rpc", fields);
}

int Daemon::Run() {
  ran_ = true;
  std::thread stopper([this] { Drain(stop_->Wait()); });
  const bool started = CatchUp();
  const bool failed = !started && startup_->state() != rpc::StartupGate::State::kStopping;
  if (failed) stop_->Request("start-up failed");  // then stop as on SIGTERM
  server_->Wait();
  stopper.join();
  StopStorage();
  if (failed) return 1;
  spdlog::info("stopped cleanly");
  return 0;
}

std::shared_ptr<grpc::Channel> Daemon::InProcessChannel() const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return server_->InProcessChannel(args);
}

void Daemon::RequestStop() { stop_->Request("stop requested"); }

// Loads and catches up the vector indexes, publishing progress through the
// gate; then opens it and reports SERVING. False when loading failed or was
// stopped.
bool Daemon::CatchUp() {
  const auto began = std::chrono::steady_clock::now();
  bool hold = !config_.testing_hold_start_until.empty();
  engine::LoadObserver observer;
  // Progress in the log: each collection's first and last report, and at
  // most one a second between them, with the rate since the collection began.
  std::string logged_collection;
  auto collection_began = began;
  auto last_logged = began;
  observer.progress = [&](const std::string& collection, uint64_t done, uint64_t total) {
    startup_->SetReason(fmt::format("starting: replaying collection '{}': {} of {} vectors",
                                    collection, done, total));
    const auto now = std::chrono::steady_clock::now();
    const bool first = collection != logged_collection;
    if (first) {
      logged_collection = collection;
      collection_began = now;
    }
    if (first || done == total || now - last_logged >= std::chrono::seconds(1)) {
      last_logged = now;
      const double seconds = std::chrono::duration<double>(now - collection_began).count();
      LogEvent(spdlog::level::info, "start-up: replaying vectors",
               {{"collection", collection},
                {"done", std::to_string(done)},
                {"total", std::to_string(total)},
                {"rate_per_s", seconds > 0 ? fmt::format("{:.0f}", done / seconds) : "-"}});
    }
    if (hold) {
      hold = false;
      HoldUntilExists(config_.testing_hold_start_until, *startup_);
    }
  };
  observer.cancelled = [&] { return startup_->state() == rpc::StartupGate::State::kStopping; };
  startup_->SetReason("starting: loading vector indexes");
  if (Status loaded = embeddings_->Load(observer); !loaded.ok()) {
    if (startup_->state() == rpc::StartupGate::State::kStopping) {
      spdlog::info("start-up stopped: {}", loaded.message());
    } else {
      spdlog::error("start-up failed: {}", loaded.ToString());
      std::cerr << "hartonomousd: " << loaded.message() << std::endl;
    }
    return false;
  }
  // Model imports a crash cut short hold staged atoms: release them.
  startup_->SetReason("starting: releasing interrupted model imports");
  auto abandoned = models_->AbandonInterruptedImports();
  if (!abandoned.ok()) {
    spdlog::error("start-up failed: {}", abandoned.status().ToString());
    std::cerr << "hartonomousd: " << abandoned.status().message() << std::endl;
    return false;
  }
  if (*abandoned > 0) {
    spdlog::info("released the staged atoms of {} interrupted model imports", *abandoned);
  }
  const engine::LoadTotals totals = embeddings_->load_totals();
  startup_->Open(totals.replayed, totals.removed);
  health_service_->SetServing();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - began)
                      .count();
  spdlog::info(
      "hartonomousd {} serving on {} with data dir {}: {} collections loaded in {} ms ({} vectors "
      "replayed, {} removed, {} snapshotted after replay)",
      kVersion, address_, config_.data_dir, totals.collections, ms, totals.replayed, totals.removed,
      totals.snapshotted);
  return true;
}

// Report NOT_SERVING, let in-flight calls finish (bounded), then stop; calls
// still running at the deadline are cancelled. During start-up the catch-up
// sees the stop and gives up between chunks.
void Daemon::Drain(const std::string& why) {
  spdlog::info("{}, draining", why);
  startup_->Stop();
  health_service_->Shutdown();
  if (!in_flight_->WaitIdle(std::chrono::system_clock::now() + kDrainDeadline)) {
    spdlog::warn("{} calls still running after {} s; cancelling them", in_flight_->count(),
                 kDrainDeadline.count());
  }
  server_->Shutdown(std::chrono::system_clock::now());
}

// After the server: the metrics port (its collectors read what follows),
// the work pool's queue, final snapshots while the writer still runs, then
// the writer after its queue.
void Daemon::StopStorage() {
  http_.reset();
  // The work pool's last items first, while the writer runs: a stream
  // cancelled at the end releases its state there (an abandoned import
  // gives back what it staged). The long calls' threads have finished
  // their calls (the server is down): they are joined.
  long_calls_.reset();
  work_.reset();
  embeddings_->Stop();
  if (Status saved = atom_points_->SaveSnapshot(AtomPointsPath()); !saved.ok()) {
    spdlog::warn("atom spatial keys: snapshot at shutdown failed: {}", saved.ToString());
  }
  writer_->Stop();
}

std::string Daemon::AtomPointsPath() const {
  return (std::filesystem::path(config_.data_dir) / "atom_points.snap").string();
}

}  // namespace hartonomous
