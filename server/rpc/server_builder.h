// BuildGrpcServer: the one place where hartonomousd's gRPC server is put
// together (as etcd's v3rpc.Server): its listening port, message sizes,
// thread and stream limits, the services, server reflection and the server
// interceptors. Which services exist and how they are wired to the engines
// is the daemon's business (server/daemon.h); how they are served is this.
//
// Every server this builds:
//   - listens on options.listen, in plaintext or TLS (options.tls), without
//     SO_REUSEPORT, so that a port already
//     in use is an error instead of a port shared by two daemons;
//   - accepts a request of one maximal atom (max_content_bytes) plus 16 MiB
//     for its other fields and sends responses of any size (the response
//     budget of each RPC bounds them, engine::ResponseBudget);
//   - serves every method through the callback API (no thread waits for a
//     call; common/unary_callback.h, common/client_stream_reactor.h,
//     common/server_stream_reactor.h, common/long_call.h) but server
//     reflection, gRPC's synchronous service, whose streams get a thread
//     each, at most max_threads of them (a call past that gets
//     RESOURCE_EXHAUSTED), and at most max_concurrent_streams calls per
//     connection;
//   - receives at most stream_window_bytes ahead of what a call has read
//     (a fixed HTTP/2 window per stream, no bandwidth-delay probing);
//   - serves gRPC server reflection;
//   - runs the interceptors in this order: the in-flight counter (every call,
//     for the drain and the call limit, interceptors/in_flight.h), the
//     refusal of a wrapped callback method (interceptors/service_wrapper.h),
//     the status of a request that does not parse
//     (interceptors/unparsed_request.h), the call observer when set (metrics
//     and the request log, interceptors/rpc_observer.h; it sees the status
//     as rewritten), then the API key check of server reflection when set
//     (interceptors/auth_gate.h).
//
// Thread-safety: call from one thread; the returned server is thread-safe.
#pragma once

#include <grpcpp/server.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/rpc/interceptors/auth_gate.h"
#include "server/rpc/interceptors/in_flight.h"
#include "server/rpc/interceptors/rpc_observer.h"

namespace hartonomous::rpc {

// The TLS files of the port; gRPC re-reads them every reload_seconds and
// serves changed ones to new connections.
struct GrpcTlsFiles {
  std::string cert_file;       // PEM certificate chain
  std::string key_file;        // its PEM private key
  std::string client_ca_file;  // "" = no client certificates asked
  unsigned reload_seconds = 60;
};

struct GrpcServerOptions {
  // HOST:PORT; port 0 picks a free port (--listen); "" = no port, calls only
  // through grpc::Server::InProcessChannel. Default: 127.0.0.1:50051.
  std::string listen = "127.0.0.1:50051";
  // Largest atom content (--max-content-bytes). Default: 64 MiB.
  size_t max_content_bytes = size_t{64} << 20;
  // Most threads of the synchronous server (server reflection's streams),
  // one per running call (--max-threads). Default: 256.
  size_t max_threads = 256;
  // Most concurrent calls (HTTP/2 streams) on one client connection
  // (--max-concurrent-streams). Default: 100.
  size_t max_concurrent_streams = 100;
  // Each call's HTTP/2 receive window (--stream-window-bytes), with gRPC's
  // bandwidth-delay probing off so that the window stays this size: a
  // client stream sending faster than the server reads holds at most this
  // much in the transport. Default: 4 MiB.
  size_t stream_window_bytes = size_t{4} << 20;
  // Keepalive pings of idle connections and how long to wait for their
  // answer (--keepalive-seconds, --keepalive-timeout-seconds). Defaults:
  // 7200, 20.
  size_t keepalive_seconds = 7200;
  size_t keepalive_timeout_seconds = 20;
  // Close connections idle / older than this; 0 = never
  // (--max-connection-idle-seconds, --max-connection-age-seconds).
  // Defaults: 0, 0.
  size_t max_connection_idle_seconds = 0;
  size_t max_connection_age_seconds = 0;
  // Told of every finished call (metrics, request log); nullptr = none.
  // Default: none.
  const CallObserver* observer = nullptr;
  // Checks server reflection calls (the services come wrapped); nullptr =
  // reflection is open. Default: none.
  const AuthGate* auth = nullptr;
  // Serve TLS (mutual TLS when client_ca_file is set); nullopt = plaintext.
  // Default: plaintext.
  std::optional<GrpcTlsFiles> tls;
};

struct GrpcServer {
  std::unique_ptr<grpc::Server> server;
  // The bound port (the one chosen when options.listen asked for port 0);
  // 0 without a port.
  int port = 0;
  // options.listen's host with the bound port, e.g. "127.0.0.1:43117"; ""
  // without a port.
  std::string address;
};

// Builds and starts the server with `services` registered in their order.
// Unavailable "--listen ADDR: cannot listen there (address in use or
// invalid)" when it cannot listen. REQUIRES: services and in_flight outlive
// the server.
Result<GrpcServer> BuildGrpcServer(const GrpcServerOptions& options,
                                   const std::vector<grpc::Service*>& services,
                                   InFlightCalls& in_flight);

}  // namespace hartonomous::rpc
