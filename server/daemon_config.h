// DaemonConfig: hartonomousd's command-line flags, their defaults and their
// parsing. Parsing never exits the process; main decides.
//
// Thread-safety: value type.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/status.h"

namespace hartonomous {

struct DaemonConfig {
  // Default: 127.0.0.1:50051. Port 0 picks a free port and prints it.
  std::string listen = "127.0.0.1:50051";
  // Default: ./data
  std::string data_dir = "data";
  // trace|debug|info|warn|error|off. Default: info.
  std::string log_level = "info";
  // text|json. Default: text.
  std::string log_format = "text";
  // Default: 64 MiB.
  size_t max_content_bytes = size_t{64} << 20;
  // Default: 256 MiB.
  size_t max_batch_bytes = size_t{256} << 20;
  // Largest model file ImportModel accepts. Default: 256 GiB.
  size_t max_model_bytes = size_t{256} << 30;
  // Largest ONNX model file (parsed in memory). Default: 1 GiB.
  size_t max_onnx_bytes = size_t{1} << 30;
  // Largest response of a read RPC. REQUIRES (checked by parsing):
  // >= max_content_bytes + kResponseOverheadBytes, so that one maximal atom
  // always fits, and <= kMaxResponseBytes. Default: 256 MiB.
  size_t max_response_bytes = size_t{256} << 20;
  // Initial LMDB map size; it grows on demand. Default: 1 GiB.
  size_t initial_map_bytes = size_t{1} << 30;
  // Largest k of a vector search. Default: 1000.
  size_t max_search_k = 1000;
  // Seconds between periodic vector-index snapshots; 0 = none (snapshots
  // still follow 10000 changes, shutdown and requests). Default: 60.
  size_t snapshot_interval_seconds = 60;
  // A collection is fitted with PCA once it holds this many vectors; 0 =
  // only by RefitProjection. Default: 1000.
  size_t projection_fit_after = 1000;
  // Most threads of the gRPC server, which bound the calls served at once
  // (each running call holds one thread); a call arriving when all are busy
  // gets RESOURCE_EXHAUSTED. Default: 256.
  size_t max_threads = 256;
  // Most concurrent calls (HTTP/2 streams) on one client connection; more
  // wait in the client until one ends. Default: 100.
  size_t max_concurrent_streams = 100;
  // Testing only: start-up waits, before the first vector replay, until
  // this file exists (or a stop signal arrives). Empty = no wait. Default:
  // empty.
  std::string testing_hold_start_until;
  // Testing only: each Compact waits on the writer thread, before its copy,
  // until this file exists (at most 60 s). Empty = no wait. Default: empty.
  std::string testing_hold_compaction_until;
  bool help = false;
  bool version = false;
};

// Room in a response beside an atom's content: its canonical text and
// metadata (1 MiB each) and the other fields.
inline constexpr size_t kResponseOverheadBytes = size_t{4} << 20;
// Protobuf cannot encode a message of 2 GiB or more; the budget's sizes are
// upper bounds, so its limit stays below that.
inline constexpr size_t kMaxResponseBytes = (size_t{2} << 30) - (size_t{1} << 20);

// InvalidArgument naming the flag on a bad or unknown flag.
Result<DaemonConfig> ParseDaemonFlags(const std::vector<std::string>& args);

std::string DaemonUsage();

}  // namespace hartonomous
