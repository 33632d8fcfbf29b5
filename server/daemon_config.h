// DaemonConfig: hartonomousd's command-line flags, their defaults and their
// parsing. Parsing never exits the process; main decides.
//
// Thread-safety: value type.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "storage/status.h"

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
  // Testing only: start-up waits, before the first vector replay, until
  // this file exists (or a stop signal arrives). Empty = no wait. Default:
  // empty.
  std::string testing_hold_start_until;
  bool help = false;
  bool version = false;
};

// InvalidArgument naming the flag on a bad or unknown flag.
Result<DaemonConfig> ParseDaemonFlags(const std::vector<std::string>& args);

std::string DaemonUsage();

}  // namespace hartonomous
