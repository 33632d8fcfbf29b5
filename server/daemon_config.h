// DaemonConfig: hartonomousd's settings, their defaults and where they come
// from. Each setting has one name, used three ways:
//   flag          --max-threads 64 (or --max-threads=64)
//   environment   HARTONOMOUS_MAX_THREADS=64
//   config file   max-threads = 64   (one per line; '#' starts a comment)
// Precedence, highest first: flags, HARTONOMOUS_* variables, the config file
// (--config FILE, else HARTONOMOUS_CONFIG), the defaults. Every source is
// checked whole: an unknown name, a value of the wrong type or out of range
// is an InvalidArgument naming the setting and its source
// ("HARTONOMOUS_MAX_THREADS: must be in [4, 100000], got 2", "FILE:3:
// listen: expected HOST:PORT ..."). Testing-only settings are flags only.
// Parsing never exits the process; main decides (exit status 2).
//
// Thread-safety: value type.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace hartonomous {

struct DaemonConfig {
  // Default: 127.0.0.1:50051. Port 0 picks a free port and prints it.
  // Empty (only from code, no flag parses to it) = no port at all: calls
  // reach the server only through Daemon::InProcessChannel (the RPC fuzz
  // target, fuzz/rpc_fuzzer.cc).
  std::string listen = "127.0.0.1:50051";
  // The HTTP address of /metrics and /status, e.g. 127.0.0.1:9464; "off" =
  // none. Port 0 picks a free port (logged). Default: off.
  std::string metrics_listen = "off";
  // Required as "Authorization: Bearer TOKEN" on the metrics port when set;
  // a secret (--print-config masks it). Default: empty = none.
  std::string metrics_token;
  // The bootstrap admin API key, a secret of 32 to 256 printable ASCII
  // characters without spaces (--print-config masks it); prefer
  // HARTONOMOUS_ADMIN_KEY or admin_key_file to a flag, which other users
  // can see. With it set every call needs an API key. Default: none.
  std::string admin_key;
  // A file holding the bootstrap admin key (surrounding whitespace
  // ignored), read at start; not together with admin_key. Default: none.
  std::string admin_key_file;
  // TLS: the server's PEM certificate chain and private key (both or
  // neither); with them the gRPC port speaks only TLS. Default: none.
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM CA certificates: set, every client must present a certificate that
  // chains to one of them (mutual TLS). Requires tls_cert_file. Default:
  // none.
  std::string tls_client_ca_file;
  // How often the TLS files are checked for changes; a changed certificate,
  // key or CA is served to new connections without a restart. Default: 60.
  size_t tls_reload_seconds = 60;
  // Allows listening on a non-loopback address with no API key configured
  // (everyone who reaches the port may do anything). Default: false.
  bool insecure = false;
  // A call that succeeds after more than this many milliseconds is logged
  // at warn ("slow rpc"); 0 = never. Default: 1000.
  size_t slow_request_ms = 1000;
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
  // The fewest rows of an inference log segment before a new one starts
  // (storage/tables/inference_table.h, SegmentPolicy). Default: 65536.
  size_t inference_segment_rows = 65536;
  // Most threads of the gRPC server's synchronous methods (server
  // streams, the long maintenance calls, health), one per running
  // call; such a call arriving when all are busy gets RESOURCE_EXHAUSTED.
  // Default: 256.
  size_t max_threads = 256;
  // Most calls in progress at once, every method counted; a call of any
  // service but health arriving beyond it gets RESOURCE_EXHAUSTED at once
  // (rpc/interceptors/call_limit.h). Default: 1024.
  size_t max_concurrent_calls = 1024;
  // Threads of the work pool (base/work_pool.h) that run the client
  // streams' work off gRPC's callback threads: decoding, hashing and
  // compressing at a stream's end, staging ImportModel's and
  // SetLayerValues' bytes, AddEmbeddings' index inserts. 0 = twice the
  // hardware threads, at least 4. Default: 0.
  size_t work_threads = 0;
  // Threads one exact scan may use, its caller's included
  // (base/scan_workers.h): the exact filtered scans, exact searches and
  // hybrid reranks over many vectors are cut into chunks that idle helper
  // threads share. 0 = the hardware threads; 1 = every scan on its
  // caller's thread. Default: 0.
  size_t scan_threads = 0;
  // Most concurrent calls (HTTP/2 streams) on one client connection; more
  // wait in the client until one ends. Default: 100.
  size_t max_concurrent_streams = 100;
  // HTTP/2 receive window of each call (stream), in bytes: how far a client
  // may send ahead of what the server has read. gRPC's bandwidth-delay
  // probing, which grows windows without bound on a fast link, is off, so
  // a client stream that sends faster than the server stores holds at most
  // this much in the server's transport. In [64 KiB, 1 GiB]. Default: 4 MiB.
  size_t stream_window_bytes = size_t{4} << 20;
  // The server pings a connection idle this long and closes it when the
  // ping is not answered within keepalive_timeout_seconds (gRPC's
  // GRPC_ARG_KEEPALIVE_TIME_MS / _TIMEOUT_MS). Defaults: 7200, 20.
  size_t keepalive_seconds = 7200;
  size_t keepalive_timeout_seconds = 20;
  // A connection without calls for this long is closed (GOAWAY); 0 = never.
  // Default: 0.
  size_t max_connection_idle_seconds = 0;
  // A connection is closed (GOAWAY, its calls may finish) once this old, so
  // that clients reconnect and spread over replicas; 0 = never. Default: 0.
  size_t max_connection_age_seconds = 0;
  // Testing only: start-up waits, before the first vector replay, until
  // this file exists (or a stop signal arrives). Empty = no wait. Default:
  // empty.
  std::string testing_hold_start_until;
  // Testing only: each Compact waits on the writer thread, before its copy,
  // until this file exists (at most 60 s). Empty = no wait. Default: empty.
  std::string testing_hold_compaction_until;
  // Testing only: each PruneInferences stops (ABORTED) after this many of
  // its write steps have committed, as a crash there would. 0 = never.
  size_t testing_prune_stop_after = 0;
  bool help = false;
  bool version = false;
  // --print-config: print the effective configuration and exit.
  bool print_config = false;
};

// The prefix of the settings' environment variables.
inline constexpr char kEnvPrefix[] = "HARTONOMOUS_";
// HARTONOMOUS_* variables that are not settings, so the settings ignore
// them: the clients' server address, API key and TLS files (a container
// sets both),
// and the distance kernel override the index layer reads itself
// (index/kernels.h).
inline constexpr const char* kClientEnvironment[] = {"HARTONOMOUS_SERVER",  "HARTONOMOUS_API_KEY",
                                                     "HARTONOMOUS_TLS_CA",  "HARTONOMOUS_TLS_CERT",
                                                     "HARTONOMOUS_TLS_KEY", "HARTONOMOUS_KERNELS"};

// Reads a config file whole; NotFound/InvalidArgument naming the path.
using ConfigFileReader = std::function<Result<std::string>(const std::string& path)>;

// The effective configuration from args (the flags, without the program
// name), environment ("NAME=value" entries; only HARTONOMOUS_* ones are
// read) and the config file they name, read with read_file.
Result<DaemonConfig> LoadDaemonConfig(const std::vector<std::string>& args,
                                      const std::vector<std::string>& environment,
                                      const ConfigFileReader& read_file);

// The flags alone (no environment, no config file).

// Room in a response beside an atom's content: its canonical text and
// metadata (1 MiB each) and the other fields.
inline constexpr size_t kResponseOverheadBytes = size_t{4} << 20;
// Protobuf cannot encode a message of 2 GiB or more; the budget's sizes are
// upper bounds, so its limit stays below that.
inline constexpr size_t kMaxResponseBytes = (size_t{2} << 30) - (size_t{1} << 20);

// InvalidArgument naming the flag on a bad or unknown flag.
Result<DaemonConfig> ParseDaemonFlags(const std::vector<std::string>& args);

std::string DaemonUsage();

// The effective configuration as a config file (every setting, "key =
// value"), secrets shown as "********" when set.
std::string FormatDaemonConfig(const DaemonConfig& config);

// The bootstrap admin key: admin_key, or the content of admin_key_file
// (read now, surrounding whitespace removed); "" when neither is set.
// InvalidArgument naming --admin-key-file when it cannot be read or its key
// breaks admin_key's rules.
Result<std::string> ReadAdminKey(const DaemonConfig& config);

// True when a listen address (HOST:PORT) only accepts local connections:
// 127.0.0.0/8, [::1], localhost, or a unix: socket.
bool ListensOnLoopback(const std::string& listen);

// Reads a config file from the filesystem (the ConfigFileReader of main).
Result<std::string> ReadConfigFile(const std::string& path);

}  // namespace hartonomous
