#include "server/metrics/server_metrics.h"

#include <utility>

namespace hartonomous::metrics {
namespace {

const std::vector<double> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const std::vector<double> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

}  // namespace

ServerMetrics::ServerMetrics()
    : rpc_requests_("hartonomous_rpc_requests_total",
                    "RPCs finished, by full method name and gRPC status code.", {"method", "code"}),
      rpc_duration_("hartonomous_rpc_duration_seconds",
                    "RPC latency from the call's start to its status, by method and code.",
                    {"method", "code"}, kLatencyBounds),
      commit_requests_("hartonomous_group_commit_requests",
                       "Write requests carried by each LMDB group commit.", {}, kBatchBounds),
      commit_duration_("hartonomous_group_commit_duration_seconds",
                       "Time of each group commit, from its first write to its commit.", {},
                       kLatencyBounds) {}

void ServerMetrics::RecordRpc(const std::string& method, const std::string& code, double seconds) {
  rpc_requests_.Add({method, code});
  rpc_duration_.Observe({method, code}, seconds);
}

void ServerMetrics::RecordCommit(size_t requests, double seconds) {
  commit_requests_.Observe({}, static_cast<double>(requests));
  commit_duration_.Observe({}, seconds);
}

void ServerMetrics::AddCollector(Collector collector) {
  collectors_.push_back(std::move(collector));
}

std::string ServerMetrics::Render() const {
  std::string out;
  rpc_requests_.Render(&out);
  rpc_duration_.Render(&out);
  commit_requests_.Render(&out);
  commit_duration_.Render(&out);
  for (const Collector& collect : collectors_) collect(&out);
  return out;
}

}  // namespace hartonomous::metrics
