#include "server/daemon_config.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <utility>

namespace hartonomous {
namespace {

// A plain decimal count in [0, max] (no units).
Result<size_t> ParseCount(const std::string& flag, const std::string& text, size_t max,
                          const std::string& what, size_t min = 0) {
  size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return Status::InvalidArgument(flag + ": " + what + " in [" + std::to_string(min) + ", " +
                                   std::to_string(max) + "], got '" + text + "'");
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

std::string Trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

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
            HT_ASSIGN_OR_RETURN(*field, ParseCount(flag, v, max, what, min));
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
  --metrics-listen HOST:PORT
                            HTTP address of /metrics (Prometheus) and /status,
                            e.g. 127.0.0.1:9464 (default off; port 0 picks a
                            free port, logged as "metrics on http://...")
  --metrics-token TOKEN     require "Authorization: Bearer TOKEN" on the
                            metrics port (default none); a secret
  --admin-key-file FILE     the bootstrap admin API key, read from FILE (or
                            HARTONOMOUS_ADMIN_KEY=KEY); 32 to 256 printable
                            characters. With it, or with any key created
                            through AdminService.CreateApiKey, every call but
                            health needs "authorization: Bearer KEY"
  --admin-key KEY           the same, as a value (visible to other users in
                            the process list: prefer the two above)
  --tls-cert-file FILE      serve TLS with this PEM certificate chain ...
  --tls-key-file FILE       ... and its PEM private key (both or neither)
  --tls-client-ca-file FILE require client certificates signed by these PEM
                            CAs (mutual TLS)
  --tls-reload-seconds N    check the TLS files for changes every N seconds
                            and serve new ones without a restart (default 60)
  --insecure                allow a non-loopback --listen address while no
                            API key is configured (default: refuse to start)
  --slow-request-ms N       log calls slower than N ms at warn (default 1000;
                            0 = never); failed calls are always logged at warn
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
  --inference-segment-rows N
                            fewest rows of an inference log segment before
                            the next starts; a prune empties segments older
                            than its cutoff whole (default 65536)
  --max-threads N           most threads for long calls (compaction, backup,
                            rebuilds, quantization; one each) and, apart,
                            for server reflection's streams; such a call
                            beyond gets RESOURCE_EXHAUSTED (default 256, at
                            least 4)
  --max-concurrent-calls N  most calls in progress at once; a call beyond gets
                            RESOURCE_EXHAUSTED at once (default 1024)
  --work-threads N          threads that run the streams' work (decoding,
                            hashing, compressing, staging, reading); 0 =
                            twice the cores, at least 4 (default 0)
  --scan-threads N          threads one exact scan (filtered search, exact
                            search, hybrid rerank) may use, its own
                            included; idle ones join it; 0 = the cores,
                            1 = none joins (default 0)
  --max-concurrent-streams N
                            most concurrent calls on one client connection;
                            more wait in the client (default 100)
  --stream-window-bytes N   how far ahead of the server's reading a client may
                            send on one call (HTTP/2 window; default 4M, in
                            [64K, 1G]); bounds what a fast client stream
                            holds in the server
  --keepalive-seconds N     ping a connection idle this long (default 7200)
  --keepalive-timeout-seconds N
                            close it when the ping is unanswered this long
                            (default 20)
  --max-connection-idle-seconds N
                            close a connection without calls this long; 0 =
                            never (default 0)
  --max-connection-age-seconds N
                            close a connection this old (its calls finish);
                            0 = never (default 0)
  --config FILE             read settings from FILE ("key = value" lines, keys
                            as the flags without "--"; default
                            $HARTONOMOUS_CONFIG, else none)
  --print-config            print the effective configuration and exit
  --version                 print the version
  --help                    print this help

Every setting can also come from the environment as HARTONOMOUS_NAME (e.g.
HARTONOMOUS_DATA_DIR=/data for --data-dir) or from the config file.
Precedence: flags, then HARTONOMOUS_* variables, then the config file, then
the defaults. An unknown setting or a bad value is an error (exit status 2).

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
  --testing-prune-stop-after N
                            stop each PruneInferences (ABORTED) after N of its
                            write steps have committed, leaving the state a
                            crash there would leave
)";
}

namespace {

// A bootstrap admin key's rules; errors start with `what`.
Status CheckAdminKey(const std::string& what, const std::string& key) {
  if (key.size() < 32 || key.size() > 256) {
    return Status::InvalidArgument(what + ": an admin key has 32 to 256 characters, got " +
                                   std::to_string(key.size()));
  }
  for (char c : key) {
    if (c <= 0x20 || c > 0x7e) {
      return Status::InvalidArgument(what + ": an admin key is printable ASCII without spaces");
    }
  }
  return Status::Ok();
}

// Every setting by its flag ("--listen"); each setter parses and stores one
// value into config. Errors start with the flag.
std::map<std::string, Setter> Setters(DaemonConfig& config) {
  return {
      {"--listen",
       [&](const std::string& v) {
         const auto colon = v.rfind(':');
         if (colon == std::string::npos ||
             !ParseCount("--listen", v.substr(colon + 1), 65535, "a port").ok()) {
           return Status::InvalidArgument(
               "--listen: expected HOST:PORT (port in [0, 65535]), got '" + v + "'");
         }
         config.listen = v;
         return Status::Ok();
       }},
      {"--metrics-listen",
       [&](const std::string& v) {
         const auto colon = v.rfind(':');
         if (v != "off" &&
             (colon == std::string::npos ||
              !ParseCount("--metrics-listen", v.substr(colon + 1), 65535, "a port").ok())) {
           return Status::InvalidArgument(
               "--metrics-listen: expected HOST:PORT (port in [0, "
               "65535]) or off, got '" +
               v + "'");
         }
         config.metrics_listen = v;
         return Status::Ok();
       }},
      {"--metrics-token",
       [&](const std::string& v) {
         for (char c : v) {
           if (c <= 0x20 || c > 0x7e) {
             return Status::InvalidArgument(
                 "--metrics-token: printable ASCII without spaces expected");
           }
         }
         config.metrics_token = v;
         return Status::Ok();
       }},
      {"--admin-key",
       [&](const std::string& v) {
         HT_RETURN_IF_ERROR(CheckAdminKey("--admin-key", v));
         config.admin_key = v;
         return Status::Ok();
       }},
      {"--admin-key-file",
       [&](const std::string& v) {
         if (v.empty()) return Status::InvalidArgument("--admin-key-file: expected a file path");
         config.admin_key_file = v;
         return Status::Ok();
       }},
      {"--tls-cert-file",
       [&](const std::string& v) {
         if (v.empty()) return Status::InvalidArgument("--tls-cert-file: expected a file path");
         config.tls_cert_file = v;
         return Status::Ok();
       }},
      {"--tls-key-file",
       [&](const std::string& v) {
         if (v.empty()) return Status::InvalidArgument("--tls-key-file: expected a file path");
         config.tls_key_file = v;
         return Status::Ok();
       }},
      {"--tls-client-ca-file",
       [&](const std::string& v) {
         if (v.empty())
           return Status::InvalidArgument("--tls-client-ca-file: expected a file path");
         config.tls_client_ca_file = v;
         return Status::Ok();
       }},
      CountFlag("--tls-reload-seconds", &config.tls_reload_seconds, 86400, "seconds", 1),
      {"--insecure",
       [&](const std::string& v) {
         if (v != "true" && v != "false") {
           return Status::InvalidArgument("--insecure: true or false, got '" + v + "'");
         }
         config.insecure = v == "true";
         return Status::Ok();
       }},
      CountFlag("--slow-request-ms", &config.slow_request_ms, 86400000, "milliseconds"),
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
      CountFlag("--inference-segment-rows", &config.inference_segment_rows, size_t{1} << 40, "rows",
                1),
      CountFlag("--max-threads", &config.max_threads, 100000, "threads", 4),
      CountFlag("--max-concurrent-calls", &config.max_concurrent_calls, 1000000, "calls", 1),
      CountFlag("--work-threads", &config.work_threads, 1024, "threads"),
      CountFlag("--scan-threads", &config.scan_threads, 1024, "threads"),
      CountFlag("--max-concurrent-streams", &config.max_concurrent_streams, 100000, "streams", 1),
      {"--stream-window-bytes",
       [&](const std::string& v) -> Status {
         HT_ASSIGN_OR_RETURN(config.stream_window_bytes, ParseSize("--stream-window-bytes", v));
         if (config.stream_window_bytes < (size_t{64} << 10) ||
             config.stream_window_bytes > (size_t{1} << 30)) {
           return Status::InvalidArgument("--stream-window-bytes: must be in [64K, 1G], got '" + v +
                                          "'");
         }
         return Status::Ok();
       }},
      CountFlag("--keepalive-seconds", &config.keepalive_seconds, 86400 * 7, "seconds", 1),
      CountFlag("--keepalive-timeout-seconds", &config.keepalive_timeout_seconds, 3600, "seconds",
                1),
      CountFlag("--max-connection-idle-seconds", &config.max_connection_idle_seconds, 86400 * 365,
                "seconds"),
      CountFlag("--max-connection-age-seconds", &config.max_connection_age_seconds, 86400 * 365,
                "seconds"),
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
      CountFlag("--testing-prune-stop-after", &config.testing_prune_stop_after, size_t{1} << 40,
                "steps"),
  };
}

// The cross-setting rules, once every source is applied.
Status CheckConfig(const DaemonConfig& config) {
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return Status::InvalidArgument(
        "--tls-cert-file: --tls-cert-file and --tls-key-file go together (both or neither)");
  }
  if (!config.tls_client_ca_file.empty() && config.tls_cert_file.empty()) {
    return Status::InvalidArgument(
        "--tls-client-ca-file: needs --tls-cert-file and --tls-key-file (mutual TLS is TLS)");
  }
  if (!config.admin_key.empty() && !config.admin_key_file.empty()) {
    return Status::InvalidArgument("--admin-key-file: not together with --admin-key");
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
  return Status::Ok();
}

}  // namespace

std::string FormatDaemonConfig(const DaemonConfig& c) {
  auto n = [](size_t v) { return std::to_string(v); };
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"listen", c.listen},
      {"metrics-listen", c.metrics_listen},
      {"metrics-token", c.metrics_token.empty() ? "" : "********"},
      {"admin-key", c.admin_key.empty() ? "" : "********"},
      {"admin-key-file", c.admin_key_file},
      {"tls-cert-file", c.tls_cert_file},
      {"tls-key-file", c.tls_key_file},
      {"tls-client-ca-file", c.tls_client_ca_file},
      {"tls-reload-seconds", n(c.tls_reload_seconds)},
      {"insecure", c.insecure ? "true" : "false"},
      {"slow-request-ms", n(c.slow_request_ms)},
      {"data-dir", c.data_dir},
      {"log-level", c.log_level},
      {"log-format", c.log_format},
      {"max-content-bytes", n(c.max_content_bytes)},
      {"max-batch-bytes", n(c.max_batch_bytes)},
      {"max-model-bytes", n(c.max_model_bytes)},
      {"max-onnx-bytes", n(c.max_onnx_bytes)},
      {"max-response-bytes", n(c.max_response_bytes)},
      {"initial-map-bytes", n(c.initial_map_bytes)},
      {"max-search-k", n(c.max_search_k)},
      {"snapshot-interval", n(c.snapshot_interval_seconds)},
      {"projection-fit-after", n(c.projection_fit_after)},
      {"inference-segment-rows", n(c.inference_segment_rows)},
      {"max-threads", n(c.max_threads)},
      {"max-concurrent-calls", n(c.max_concurrent_calls)},
      {"work-threads", n(c.work_threads)},
      {"scan-threads", n(c.scan_threads)},
      {"max-concurrent-streams", n(c.max_concurrent_streams)},
      {"stream-window-bytes", n(c.stream_window_bytes)},
      {"keepalive-seconds", n(c.keepalive_seconds)},
      {"keepalive-timeout-seconds", n(c.keepalive_timeout_seconds)},
      {"max-connection-idle-seconds", n(c.max_connection_idle_seconds)},
      {"max-connection-age-seconds", n(c.max_connection_age_seconds)},
  };
  std::string out =
      "# hartonomousd effective configuration (flags > HARTONOMOUS_* > config file > "
      "defaults)\n";
  for (const auto& [key, value] : settings) {
    if ((key == "metrics-token" || key == "admin-key" || key == "admin-key-file" ||
         key.rfind("tls-", 0) == 0) &&
        value.empty()) {
      out += "# " + key + " =   (unset)\n";
      continue;
    }
    out += key + " = " + value + "\n";
  }
  return out;
}

Result<std::string> ReadAdminKey(const DaemonConfig& config) {
  if (config.admin_key_file.empty()) return config.admin_key;
  std::ifstream in(config.admin_key_file, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("--admin-key-file " + config.admin_key_file +
                                   ": cannot read the file");
  }
  std::string key(4096, '\0');
  in.read(key.data(), static_cast<std::streamsize>(key.size()));
  key.resize(static_cast<size_t>(in.gcount()));
  const auto first = key.find_first_not_of(" \t\r\n");
  key = first == std::string::npos ? ""
                                   : key.substr(first, key.find_last_not_of(" \t\r\n") - first + 1);
  HT_RETURN_IF_ERROR(CheckAdminKey("--admin-key-file " + config.admin_key_file, key));
  return key;
}

bool ListensOnLoopback(const std::string& listen) {
  if (listen.rfind("unix:", 0) == 0) return true;
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

Result<std::string> ReadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("--config " + path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (size_t{1} << 20)) {
    return Status::InvalidArgument("--config " + path + ": larger than 1 MiB");
  }
  return text.str();
}

Result<DaemonConfig> ParseDaemonFlags(const std::vector<std::string>& args) {
  return LoadDaemonConfig(args, {}, nullptr);
}

Result<DaemonConfig> LoadDaemonConfig(const std::vector<std::string>& args,
                                      const std::vector<std::string>& environment,
                                      const ConfigFileReader& read_file) {
  DaemonConfig config;
  const std::map<std::string, Setter> with_value = Setters(config);
  // Applies one setting from a source other than the flags; errors name the
  // source ("HARTONOMOUS_MAX_THREADS: ..." or "FILE:3: max-threads: ...").
  auto apply = [&](const std::string& key, const std::string& value,
                   const std::string& label) -> Status {
    const auto it = with_value.find("--" + key);
    if (it == with_value.end() || key.rfind("testing-", 0) == 0) {
      return Status::InvalidArgument(label + ": unknown setting (see hartonomousd --help)");
    }
    Status set = it->second(value);
    if (set.ok()) return set;
    std::string message = set.message();
    if (message.rfind("--" + key, 0) == 0) message = message.substr(key.size() + 2);
    if (message.rfind(": ", 0) == 0) message = message.substr(2);
    return Status::InvalidArgument(label + ": " + message);
  };

  // The config file: --config, else HARTONOMOUS_CONFIG.
  std::string config_file;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) config_file = args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) config_file = args[i].substr(9);
  }
  std::vector<std::pair<std::string, std::string>> env_settings;
  for (const std::string& entry : environment) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || entry.rfind(kEnvPrefix, 0) != 0) continue;
    const std::string name = entry.substr(0, eq);
    const std::string value = entry.substr(eq + 1);
    if (name == std::string(kEnvPrefix) + "CONFIG") {
      if (config_file.empty()) config_file = value;
      continue;
    }
    bool client_only = false;
    for (const char* other : kClientEnvironment) client_only |= name == other;
    if (client_only) continue;
    env_settings.emplace_back(name, value);
  }
  if (!config_file.empty()) {
    if (!read_file) return Status::InvalidArgument("--config: config files are not read here");
    std::string text;
    HT_ASSIGN_OR_RETURN(text, read_file(config_file));
    size_t line_no = 0;
    size_t begin = 0;
    while (begin <= text.size()) {
      size_t end = text.find('\n', begin);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(begin, end - begin);
      begin = end + 1;
      ++line_no;
      const std::string where = config_file + ":" + std::to_string(line_no);
      if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
      const std::string trimmed = Trim(line);
      if (trimmed.empty()) {
        if (end == text.size()) break;
        continue;
      }
      const auto eq = trimmed.find('=');
      if (eq == std::string::npos) {
        return Status::InvalidArgument(where + ": expected 'key = value', got '" + trimmed + "'");
      }
      const std::string key = Trim(trimmed.substr(0, eq));
      HT_RETURN_IF_ERROR(apply(key, Trim(trimmed.substr(eq + 1)), where + ": " + key));
      if (end == text.size()) break;
    }
  }
  for (const auto& [name, value] : env_settings) {
    std::string key = name.substr(std::string(kEnvPrefix).size());
    for (char& c : key) c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
    HT_RETURN_IF_ERROR(apply(key, value, name));
  }
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
    if (flag == "--insecure" && !has_value) {
      config.insecure = true;
      continue;
    }
    if (flag == "--print-config") {
      config.print_config = true;
      continue;
    }
    if (flag == "--config") {  // read above
      if (!has_value && ++i >= args.size()) {
        return Status::InvalidArgument("--config: needs a value");
      }
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
  HT_RETURN_IF_ERROR(CheckConfig(config));
  return config;
}

}  // namespace hartonomous
