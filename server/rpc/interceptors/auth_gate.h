// AuthGate: authentication and authorization of every call. Each method
// states the least role it needs as the option hartonomous.v1.required_role
// (proto/hartonomous/v1/auth.proto; ADMIN when absent). A call is checked
// before its handler runs:
//   - no or an unusable "authorization" metadata, an unknown or revoked key
//     -> UNAUTHENTICATED (the caller is not known);
//   - a known key whose role is below the method's -> PERMISSION_DENIED
//     "API key 'NAME' has role read; hartonomous.v1.AtomService/IngestAtom
//     requires write" (the caller is known and may not do this).
// While authentication is off (engine::ApiKeyEngine::enabled()) every call
// passes. grpc.health.v1.Health is never wrapped: it stays open.
//
// Services are wrapped (service_wrapper.h). Server reflection, registered by
// gRPC's plugin and so not wrappable, is checked by an interceptor
// (MakeReflectionAuthFactory) and needs ROLE_READ: a refused reflection
// stream answers each request with an error_response carrying the status
// and ends with that status; nothing is looked up.
//
// Thread-safety: thread-safe.
#pragma once

#include <grpcpp/impl/service_type.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "server/engine/auth/api_key_engine.h"

namespace hartonomous::rpc {

class AuthGate {
 public:
  // REQUIRES: keys outlives the gate and every service it wraps.
  explicit AuthGate(const engine::ApiKeyEngine& keys) : keys_(keys) {}

  // The service `inner` (proto name full_name) with every call checked;
  // nullptr when no such service is compiled in. REQUIRES: as WrapService.
  std::unique_ptr<grpc::Service> Wrap(grpc::Service& inner, const std::string& full_name) const;

  // The interceptor factory checking server reflection calls. Register with
  // ServerBuilder::experimental().SetInterceptorCreators().
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeReflectionAuthFactory()
      const;

 private:
  const engine::ApiKeyEngine& keys_;
};

// The role a method requires (its required_role option; kAdmin without it).
engine::Role RequiredRole(const google::protobuf::MethodDescriptor& method);

}  // namespace hartonomous::rpc
