#include "server/daemon_config.h"

#include <charconv>
#include <functional>
#include <map>
#include <utility>

namespace hartonomous {
namespace {

// A plain decimal count in [0, max] (no units).
Result<size_t> ParseCount(const std::string& flag, const std::string& text, size_t max,
                          const std::string& what) {
  size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max) {
    return Status::InvalidArgument(flag + ": " + what + " in [0, " + std::to_string(max) +
                                   "], got '" + text + "'");
  }
  return value;
}

Result<size_t> ParseSize(const std::string& flag, const std::string& text) {
  size_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr == text.data()) {
    return Status::InvalidArgument(flag + ": expected a byte count, got '" + text + "'");
  }
  const std::string suffix(ptr, end);
  if (suffix == "K" || suffix == "KiB")
    value <<= 10;
  else if (suffix == "M" || suffix == "MiB")
    value <<= 20;
  else if (suffix == "G" || suffix == "GiB")
    value <<= 30;
  else if (!suffix.empty()) {
    return Status::InvalidArgument(flag + ": unknown unit '" + suffix + "' (use K, M or G)");
  }
  if (value == 0) return Status::InvalidArgument(flag + ": must be > 0");
  return value;
}

using Setter = std::function<Status(const std::string&)>;

// flag: a byte count (ParseSize) into *field.
std::pair<const std::string, Setter> SizeFlag(const std::string& flag, size_t* field) {
  return {flag, [flag, field](const std::string& v) -> Status {
            HT_ASSIGN_OR_RETURN(*field, ParseSize(flag, v));
            return Status::Ok();
          }};
}

// flag: a count of `what` in [min, max] (ParseCount) into *field.
std::pair<const std::string, Setter> CountFlag(const std::string& flag, size_t* field, size_t max,
                                               const std::string& what, size_t min = 0) {
  return {flag, [=](const std::string& v) -> Status {
            HT_ASSIGN_OR_RETURN(*field, ParseCount(flag, v, max, what));
            if (*field < min) {
              return Status::InvalidArgument(flag + ": must be in [" + std::to_string(min) + ", " +
                                             std::to_string(max) + "], got " + v);
            }
            return Status::Ok();
          }};
}

}  // namespace

std::string DaemonUsage() {
  return R"(usage: hartonomousd [flags]

Serves the Hartonomous gRPC API (hartonomous.v1) over an LMDB data directory.

  --listen HOST:PORT        address to listen on (default 127.0.0.1:50051;
                            port 0 picks a free port); the chosen address is
                            printed as "hartonomousd listening on HOST:PORT"
  --data-dir DIR            LMDB data directory (default ./data)
  --log-level LEVEL         trace|debug|info|warn|error|off (default info)
  --log-format FORMAT       text|json (default text), on stderr
  --max-content-bytes N     largest atom content (default 64M; K/M/G suffixes)
  --max-batch-bytes N       largest client stream (IngestAtoms, IngestDocument,
                            AddEmbeddings), all its message bytes (default 256M)
  --max-model-bytes N       largest model file ImportModel accepts (default 256G)
  --max-onnx-bytes N        largest ONNX model file; ONNX is parsed in memory
                            (default 1G)
  --max-response-bytes N    largest response of a read RPC (default 256M); at
                            least --max-content-bytes + 4M, below 2G; listings
                            end their page early, result sets fail with
                            RESOURCE_EXHAUSTED beyond it
  --initial-map-bytes N     initial LMDB map size; grows on demand (default 1G)
  --max-search-k N          largest k of a vector search (default 1000)
  --snapshot-interval SECS  vector index snapshot cadence; 0 = no periodic
                            snapshots, only after 10000 changes, at shutdown
                            and on request (default 60)
  --projection-fit-after N  fit a collection's 3D projection (PCA) once it
                            holds N vectors; 0 = only on request (default 1000)
  --max-threads N           most gRPC server threads, hence calls served at
                            once; a call beyond gets RESOURCE_EXHAUSTED
                            (default 256, at least 4)
  --max-concurrent-streams N
                            most concurrent calls on one client connection;
                            more wait in the client (default 100)
  --version                 print the version
  --help                    print this help

Testing only (not for production use):
  --testing-hold-start-until FILE
                            hold start-up, before replaying vectors into an
                            index, until FILE exists, so that tests can observe
                            the starting state (health NOT_SERVING, other RPCs
                            UNAVAILABLE)
  --testing-hold-compaction-until FILE
                            hold each Compact, on the writer thread before its
                            copy, until FILE exists (at most 60 s), so that
                            tests can act while a compaction runs
)";
}

Result<DaemonConfig> ParseDaemonFlags(const std::vector<std::string>& args) {
  DaemonConfig config;
  const std::map<std::string, Setter> with_value = {
      {"--listen",
       [&](const std::string& v) {
         if (v.rfind(':') == std::string::npos) {
           return Status::InvalidArgument("--listen: expected HOST:PORT, got '" + v + "'");
         }
         config.listen = v;
         return Status::Ok();
       }},
      {"--data-dir",
       [&](const std::string& v) {
         if (v.empty()) return Status::InvalidArgument("--data-dir: must not be empty");
         config.data_dir = v;
         return Status::Ok();
       }},
      {"--log-level",
       [&](const std::string& v) {
         static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
         for (const char* level : kLevels) {
           if (v == level) {
             config.log_level = v;
             return Status::Ok();
           }
         }
         return Status::InvalidArgument(
             "--log-level: one of trace|debug|info|warn|error|off, got '" + v + "'");
       }},
      {"--log-format",
       [&](const std::string& v) {
         if (v != "text" && v != "json") {
           return Status::InvalidArgument("--log-format: text or json, got '" + v + "'");
         }
         config.log_format = v;
         return Status::Ok();
       }},
      SizeFlag("--max-content-bytes", &config.max_content_bytes),
      SizeFlag("--max-batch-bytes", &config.max_batch_bytes),
      SizeFlag("--max-model-bytes", &config.max_model_bytes),
      SizeFlag("--max-onnx-bytes", &config.max_onnx_bytes),
      SizeFlag("--max-response-bytes", &config.max_response_bytes),
      SizeFlag("--initial-map-bytes", &config.initial_map_bytes),
      {"--max-search-k",
       [&](const std::string& v) -> Status {
         HT_ASSIGN_OR_RETURN(config.max_search_k, ParseSize("--max-search-k", v));
         if (config.max_search_k < 1 || config.max_search_k > 100000) {
           return Status::InvalidArgument("--max-search-k: must be in [1, 100000], got " + v);
         }
         return Status::Ok();
       }},
      CountFlag("--snapshot-interval", &config.snapshot_interval_seconds, 86400, "seconds"),
      CountFlag("--projection-fit-after", &config.projection_fit_after, size_t{1} << 40, "vectors"),
      CountFlag("--max-threads", &config.max_threads, 100000, "threads", 4),
      CountFlag("--max-concurrent-streams", &config.max_concurrent_streams, 100000, "streams", 1),
      {"--testing-hold-start-until",
       [&](const std::string& v) -> Status {
         if (v.empty()) {
           return Status::InvalidArgument("--testing-hold-start-until: expected a file path");
         }
         config.testing_hold_start_until = v;
         return Status::Ok();
       }},
      {"--testing-hold-compaction-until",
       [&](const std::string& v) -> Status {
         if (v.empty()) {
           return Status::InvalidArgument("--testing-hold-compaction-until: expected a file path");
         }
         config.testing_hold_compaction_until = v;
         return Status::Ok();
       }},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool has_value = false;
    if (const auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    if (flag == "--help" || flag == "-h") {
      config.help = true;
      continue;
    }
    if (flag == "--version") {
      config.version = true;
      continue;
    }
    auto it = with_value.find(flag);
    if (it == with_value.end()) {
      return Status::InvalidArgument(flag + ": unknown flag (see --help)");
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return Status::InvalidArgument(flag + ": needs a value");
      value = args[++i];
    }
    HT_RETURN_IF_ERROR(it->second(value));
  }
  if (config.max_batch_bytes < config.max_content_bytes) {
    return Status::InvalidArgument("--max-batch-bytes: must be >= --max-content-bytes");
  }
  if (config.max_content_bytes > kMaxResponseBytes - kResponseOverheadBytes ||
      config.max_response_bytes < config.max_content_bytes + kResponseOverheadBytes) {
    return Status::InvalidArgument(
        "--max-response-bytes: must be >= --max-content-bytes + 4M (" +
        std::to_string(config.max_content_bytes) + " + " + std::to_string(kResponseOverheadBytes) +
        " bytes) so that one atom always fits, got " + std::to_string(config.max_response_bytes));
  }
  if (config.max_response_bytes > kMaxResponseBytes) {
    return Status::InvalidArgument(
        "--max-response-bytes: must be <= " + std::to_string(kMaxResponseBytes) +
        " bytes (protobuf's 2 GiB message limit), got " +
        std::to_string(config.max_response_bytes));
  }
  return config;
}

}  // namespace hartonomous
