#include "server/rpc/server_builder.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "server/rpc/interceptors/service_wrapper.h"
#include "server/rpc/interceptors/unparsed_request.h"

namespace hartonomous::rpc {

Result<GrpcServer> BuildGrpcServer(const GrpcServerOptions& options,
                                   const std::vector<grpc::Service*>& services,
                                   InFlightCalls& in_flight) {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  GrpcServer built;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (options.tls) {
    auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        options.tls->key_file, options.tls->cert_file, options.tls->client_ca_file,
        options.tls->reload_seconds);
    grpc::experimental::TlsServerCredentialsOptions tls(provider);
    tls.watch_identity_key_cert_pairs();
    if (!options.tls->client_ca_file.empty()) {
      tls.watch_root_certs();
      tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    } else {
      tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    }
    credentials = grpc::experimental::TlsServerCredentials(tls);
  }
  if (!options.listen.empty()) builder.AddListeningPort(options.listen, credentials, &built.port);
  // Room for one maximal atom plus its other fields.
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<size_t>(options.max_content_bytes + (size_t{16} << 20), INT32_MAX)));
  builder.SetMaxSendMessageSize(-1);
  // Without this gRPC sets SO_REUSEPORT and a second daemon could share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Bound the sync server's threads (one per running call; it serves only
  // server reflection): past the cap a new call gets RESOURCE_EXHAUSTED
  // instead of another thread.
  grpc::ResourceQuota quota("hartonomousd");
  quota.SetMaxThreads(static_cast<int>(options.max_threads));
  builder.SetResourceQuota(quota);
  // A fixed receive window per call: with bandwidth-delay probing on, gRPC
  // grows the window on a fast link until a client stream that sends
  // faster than the server stores has tens of MiB buffered in the
  // transport (52 MiB measured for one ImportModel over loopback).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES,
      static_cast<int>(std::min<size_t>(options.stream_window_bytes, INT32_MAX)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(options.max_concurrent_streams));
  auto millis = [](size_t seconds) {
    return static_cast<int>(std::min<size_t>(seconds * 1000, INT32_MAX));
  };
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, millis(options.keepalive_seconds));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             millis(options.keepalive_timeout_seconds));
  if (options.max_connection_idle_seconds != 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                               millis(options.max_connection_idle_seconds));
  }
  if (options.max_connection_age_seconds != 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               millis(options.max_connection_age_seconds));
  }
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  // Send hooks run in this order: the status rewrites come before the
  // observer, so that metrics and the request log see the status sent.
  interceptors.push_back(in_flight.MakeFactory());
  interceptors.push_back(MakeRefusalInterceptorFactory());
  interceptors.push_back(MakeUnparsedRequestInterceptorFactory());
  if (options.observer != nullptr) interceptors.push_back(MakeRpcObserverFactory(options.observer));
  if (options.auth != nullptr) interceptors.push_back(options.auth->MakeReflectionAuthFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  built.server = builder.BuildAndStart();
  if (built.server != nullptr && options.listen.empty()) return built;
  if (built.server == nullptr || built.port == 0) {
    return Status::Unavailable("--listen " + options.listen +
                               ": cannot listen there (address in use or invalid)");
  }
  built.address =
      options.listen.substr(0, options.listen.rfind(':')) + ":" + std::to_string(built.port);
  return built;
}

}  // namespace hartonomous::rpc
