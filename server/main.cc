// hartonomousd: wires config -> storage -> engine -> rpc, listens, then
// catches the vector indexes up with LMDB (health NOT_SERVING and every
// other RPC but GetStats UNAVAILABLE meanwhile, see rpc::StartupGate) and
// serves until SIGINT/SIGTERM, then reports NOT_SERVING, drains in-flight
// RPCs, snapshots the vector indexes, stops the writer and closes LMDB.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <signal.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "base/clock.h"
#include "server/daemon_config.h"
#include "server/data_dir_lock.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/dedup/dedup_matcher.h"
#include "server/engine/dedup/policy_engine.h"
#include "server/engine/documents/document_engine.h"
#include "server/engine/graph/graph_engine.h"
#include "server/engine/vectors/embedding_engine.h"
#include "server/logging.h"
#include "server/rpc/admin/admin_service.h"
#include "server/rpc/admin/health_service.h"
#include "server/rpc/atom/atom_service.h"
#include "server/rpc/interceptors/in_flight.h"
#include "server/rpc/interceptors/startup_gate.h"
#include "server/rpc/interceptors/unparsed_request.h"
#include "server/rpc/search/search_service.h"
#include "server/version.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/write_batcher.h"

namespace hartonomous {
namespace {

constexpr auto kDrainDeadline = std::chrono::seconds(10);

int Fail(const Status& status) {
  std::cerr << "hartonomousd: " << status.message() << std::endl;
  return 1;
}

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

// Loads and catches up the vector indexes, publishing progress through the
// gate; then opens it and reports SERVING. False when loading failed or was
// stopped by a signal.
bool CatchUp(const DaemonConfig& config, const std::string& address,
             engine::EmbeddingEngine& embeddings, rpc::StartupGate& startup,
             rpc::HealthServiceImpl& health) {
  const auto began = std::chrono::steady_clock::now();
  bool hold = !config.testing_hold_start_until.empty();
  engine::LoadObserver observer;
  observer.progress = [&](const std::string& collection, uint64_t done, uint64_t total) {
    startup.SetReason(fmt::format("starting: replaying collection '{}': {} of {} vectors",
                                  collection, done, total));
    if (hold) {
      hold = false;
      HoldUntilExists(config.testing_hold_start_until, startup);
    }
  };
  observer.cancelled = [&] { return startup.state() == rpc::StartupGate::State::kStopping; };
  startup.SetReason("starting: loading vector indexes");
  if (Status loaded = embeddings.Load(observer); !loaded.ok()) {
    if (startup.state() == rpc::StartupGate::State::kStopping) {
      spdlog::info("start-up stopped: {}", loaded.message());
    } else {
      spdlog::error("start-up failed: {}", loaded.ToString());
      std::cerr << "hartonomousd: " << loaded.message() << std::endl;
    }
    return false;
  }
  const engine::LoadTotals totals = embeddings.load_totals();
  startup.Open(totals.replayed, totals.removed);
  health.SetServing();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - began)
                      .count();
  spdlog::info(
      "hartonomousd {} serving on {} with data dir {}: {} collections loaded in {} ms ({} vectors "
      "replayed, {} removed, {} snapshotted after replay)",
      kVersion, address, config.data_dir, totals.collections, ms, totals.replayed, totals.removed,
      totals.snapshotted);
  return true;
}

int Serve(const DaemonConfig& config) {
  auto lock = DataDirLock::Acquire(config.data_dir);
  if (!lock.ok()) return Fail(lock.status());
  storage::EnvOptions env_options;
  env_options.path = config.data_dir;
  env_options.initial_map_size = config.initial_map_bytes;
  auto env = storage::Env::Open(env_options);
  if (!env.ok()) return Fail(env.status());
  auto tables = storage::OpenTables(**env);
  if (!tables.ok()) return Fail(tables.status());
  auto token_key = storage::ReadMeta(**env, *tables, "page_token_key");
  if (!token_key.ok()) return Fail(token_key.status());

  storage::WriterOptions writer_options;
  writer_options.meta_table = tables->meta;  // room after a full disk
  storage::WriteBatcher writer(**env, writer_options);
  engine::AtomEngine atoms(**env, *tables, writer, *token_key);
  // Vector indexes: loaded from their snapshots and caught up with LMDB once
  // the server listens (Load below).
  engine::EmbeddingEngineOptions vector_options;
  vector_options.snapshot_dir =
      (std::filesystem::path(config.data_dir) / "vector_indexes").string();
  vector_options.snapshot_interval = std::chrono::seconds(config.snapshot_interval_seconds);
  vector_options.projection_fit_after = config.projection_fit_after;
  auto embeddings = engine::EmbeddingEngine::Create(**env, *tables, writer, vector_options);
  atoms.AddDependentRemover([e = embeddings.get()](storage::WriteTxn& txn, uint64_t atom_id) {
    return e->RemoveAtomEmbeddings(txn, atom_id);
  });
  rpc::SearchLimits search_limits;
  search_limits.max_k = static_cast<uint32_t>(config.max_search_k);
  search_limits.max_response_bytes = config.max_response_bytes;
  search_limits.max_stream_bytes = config.max_batch_bytes;
  // Atoms' spatial keys: from the snapshot of the last clean stop, caught up
  // by the first spatial query.
  engine::AtomPoints atom_points(**env, *tables);
  const std::string atom_points_path =
      (std::filesystem::path(config.data_dir) / "atom_points.snap").string();
  if (Status loaded = atom_points.LoadSnapshot(atom_points_path);
      !loaded.ok() && loaded.code() != Status::Code::kNotFound) {
    spdlog::warn("atom spatial keys: snapshot unusable ({}); rebuilding from the atoms table",
                 loaded.ToString());
  }
  atoms.AddDependentRemover([&atom_points](storage::WriteTxn& txn, uint64_t atom_id) {
    return atom_points.OnRemove(txn, atom_id);
  });
  rpc::SearchServiceImpl search_service(*embeddings, atom_points, search_limits);
  rpc::Limits limits{config.max_content_bytes, config.max_batch_bytes, config.max_response_bytes};
  engine::PolicyEngine policies(**env, *tables, writer, *token_key);
  if (Status seeded = policies.EnsureDefaults(); !seeded.ok()) return Fail(seeded);
  engine::DedupMatcher matcher(**env, *tables, policies, *embeddings);
  atoms.SetDedupMatcher(&matcher);
  engine::DocumentEngine documents(**env, *tables, writer);
  engine::GraphEngine graph(**env, *tables, writer, *token_key);
  rpc::AtomServiceImpl atom_service(atoms, policies, documents, graph, limits);
  rpc::InFlightCalls in_flight;
  rpc::StartupGate startup;
  rpc::AdminServiceImpl admin_service(**env, *tables, writer, in_flight, NowMicros(), &startup);
  rpc::HealthServiceImpl health_service({"hartonomous.v1.AtomService",
                                         "hartonomous.v1.SearchService",
                                         "hartonomous.v1.AdminService"});
  // Until the catch-up is over these answer UNAVAILABLE with its progress.
  std::unique_ptr<grpc::Service> gated_atoms =
      startup.Gate(atom_service, "hartonomous.v1.AtomService");
  std::unique_ptr<grpc::Service> gated_search =
      startup.Gate(search_service, "hartonomous.v1.SearchService");
  if (gated_atoms == nullptr || gated_search == nullptr) {
    return Fail(Status::Internal("start-up gate: service descriptor missing"));
  }

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config.listen, grpc::InsecureServerCredentials(), &port);
  // Room for one maximal atom plus its other fields.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<size_t>(config.max_content_bytes + (size_t{16} << 20), INT32_MAX)));
  builder.SetMaxSendMessageSize(-1);
  // Without this gRPC sets SO_REUSEPORT and a second daemon could share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Bound the sync server's threads (one per running call): past the cap a
  // new call gets RESOURCE_EXHAUSTED instead of another thread.
  grpc::ResourceQuota quota("hartonomousd");
  quota.SetMaxThreads(static_cast<int>(config.max_threads));
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(config.max_concurrent_streams));
  builder.RegisterService(gated_atoms.get());
  builder.RegisterService(gated_search.get());
  builder.RegisterService(&admin_service);
  builder.RegisterService(&health_service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(in_flight.MakeFactory());
  interceptors.push_back(rpc::MakeUnparsedRequestInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail(Status::Unavailable("--listen " + config.listen +
                                    ": cannot listen there (address in use or invalid)"));
  }
  const std::string address =
      config.listen.substr(0, config.listen.rfind(':')) + ":" + std::to_string(port);
  std::cout << "hartonomousd listening on " << address << std::endl;
  spdlog::info("hartonomousd {} listening on {} with data dir {}; starting", kVersion, address,
               config.data_dir);

  std::thread signals([&server, &health_service, &in_flight, &startup] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("received {}, draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
    // Drain: report NOT_SERVING, let in-flight calls finish (bounded), then
    // stop; calls still running at the deadline are cancelled. During
    // start-up the catch-up sees the stop and gives up between chunks.
    startup.Stop();
    health_service.Shutdown();
    if (!in_flight.WaitIdle(std::chrono::system_clock::now() + kDrainDeadline)) {
      spdlog::warn("{} calls still running after {} s; cancelling them", in_flight.count(),
                   kDrainDeadline.count());
    }
    server->Shutdown(std::chrono::system_clock::now());
  });

  const bool started = CatchUp(config, address, *embeddings, startup, health_service);
  const bool failed = !started && startup.state() != rpc::StartupGate::State::kStopping;
  if (failed) ::kill(::getpid(), SIGTERM);  // wakes the signal thread: stop as on SIGTERM
  server->Wait();
  signals.join();
  embeddings->Stop();  // final snapshots, while the writer still runs
  if (Status saved = atom_points.SaveSnapshot(atom_points_path); !saved.ok()) {
    spdlog::warn("atom spatial keys: snapshot at shutdown failed: {}", saved.ToString());
  }
  writer.Stop();
  if (failed) return 1;
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace hartonomous

int main(int argc, char** argv) {
  using namespace hartonomous;
  // Block the stop signals in every thread; one thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto config = ParseDaemonFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!config.ok()) {
    std::cerr << "hartonomousd: " << config.status().message() << "\n";
    return 2;
  }
  if (config->help) {
    std::cout << DaemonUsage();
    return 0;
  }
  if (config->version) {
    std::cout << "hartonomousd " << kVersion << "\n";
    return 0;
  }
  SetUpLogging(config->log_level, config->log_format);
  return Serve(*config);
}
