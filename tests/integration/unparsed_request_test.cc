// A request that does not parse gets INVALID_ARGUMENT saying so, for every
// method of every service, and the daemon keeps serving.
#include <google/protobuf/descriptor.h>

#include <catch2/catch.hpp>
#include <string>

#include "daemon_harness.h"
#include "raw_rpc.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

TEST_CASE("garbage request bytes get INVALID_ARGUMENT naming the request type, on every method",
          "[unparsed]") {
  Daemon daemon;
  const auto before = TableEntries(daemon.client());
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  int methods = 0;
  for (const char* name :
       {"hartonomous.v1.AtomService", "hartonomous.v1.SearchService", "hartonomous.v1.ModelService",
        "hartonomous.v1.AdminService", "grpc.health.v1.Health"}) {
    const auto* service = pool->FindServiceByName(name);
    REQUIRE(service != nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      const auto& method = *service->method(i);
      if (method.client_streaming() && method.server_streaming()) continue;  // none today
      INFO(method.full_name());
      grpc::Status status =
          CallMethodWithBytes(daemon.client().channel(), method, kUnparsableBytes);
      CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK_THAT(status.error_message(),
                 Catch::Contains("does not parse as " + method.input_type()->full_name()));
      ++methods;
    }
  }
  CHECK(methods > 30);
  CHECK(TableEntries(daemon.client()) == before);
  // Still serving.
  v1::IngestAtomResponse ingested;
  REQUIRE(daemon.client().IngestAtom(TextAtom("after the garbage"), &ingested).ok());
  CHECK(ingested.created());
}
