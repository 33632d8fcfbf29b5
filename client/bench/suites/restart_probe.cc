// hartonomous-bench restart-probe: the seconds from a daemon's start to its
// first answer (run_restart_bench.sh). Waits for health SERVING (the daemon
// listens before it has caught its indexes up), then one Search of
// --collection with the first row of --queries, and prints the seconds from
// --since-ns (CLOCK_REALTIME ns since the epoch: when the daemon was
// started) to that answer.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>

#include "../../cli/vector_files.h"
#include "../search_bench_util.h"
#include "flag_sets.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "suites.h"

namespace hartonomous::bench {
namespace {

int Run(const BenchFlags& flags) {
  const int64_t since_ns = flags.IntIn("since-ns", 1, INT64_MAX);
  const std::string& collection_name = flags.Required("collection");
  const cli::VectorFile queries = cli::ReadVectorFile(flags.Str("queries"), 1);
  ClientOptions options = ServerOptions(flags.Str("server"));
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 5);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 20);
  auto channel = CreateClientChannel(options, args);
  {
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
    auto watch = health->Watch(&ctx, grpc::health::v1::HealthCheckRequest());
    grpc::health::v1::HealthCheckResponse status;
    bool serving = false;
    while (!serving && watch->Read(&status)) {
      serving = status.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    }
    if (!serving) Die("the server never reported SERVING");
    ctx.TryCancel();
    (void)watch->Finish();
  }
  auto stub = v1::SearchService::NewStub(channel);
  v1::SearchRequest req;
  req.set_collection(collection_name);
  req.mutable_vector()->Add(queries.values.begin(), queries.values.end());
  {
    // A rotated run (--rotate 1) stored zero-padded vectors: pad the probe
    // the same way (the probe times the first answer, not its content).
    v1::GetCollectionRequest get;
    get.set_name(collection_name);
    v1::Collection collection;
    grpc::ClientContext get_ctx;
    Check(stub->GetCollection(&get_ctx, get, &collection), "GetCollection");
    while (static_cast<uint32_t>(req.vector_size()) < collection.spec().dimension()) {
      req.add_vector(0);
    }
  }
  req.set_limit(10);
  v1::SearchResponse resp;
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  Check(stub->Search(&ctx, req, &resp), "Search");
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  if (resp.results_size() != 10)
    Die("first Search returned " + std::to_string(resp.results_size()) + " results");
  std::printf("%.3f\n", double(now_ns - since_ns) / 1e9);
  return 0;
}

}  // namespace

BenchCommand RestartProbe() {
  return {"restart-probe",
          "seconds from a daemon's start (--since-ns) to its first Search answer",
          {{"server", "127.0.0.1:50051", "hartonomousd address"},
           {"since-ns", "", "when the daemon started: CLOCK_REALTIME ns since the epoch"},
           {"collection", "fmnist", "the collection searched"},
           {"queries", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
            "its first row is the query (IDX, .npy, .fvecs)"},
           {"help", "", "this text", true}},
          Run};
}

}  // namespace hartonomous::bench
