#include "server/rpc/common/status_mapping.h"

#include <catch2/catch.hpp>

using namespace hartonomous;

TEST_CASE("every engine code maps to its gRPC code and keeps the message") {
  const std::vector<std::pair<Status, grpc::StatusCode>> cases = {
      {Status::Ok(), grpc::StatusCode::OK},
      {Status::InvalidArgument("a"), grpc::StatusCode::INVALID_ARGUMENT},
      {Status::NotFound("a"), grpc::StatusCode::NOT_FOUND},
      {Status::AlreadyExists("a"), grpc::StatusCode::ALREADY_EXISTS},
      {Status::FailedPrecondition("a"), grpc::StatusCode::FAILED_PRECONDITION},
      {Status::ResourceExhausted("a"), grpc::StatusCode::RESOURCE_EXHAUSTED},
      {Status::Unauthenticated("a"), grpc::StatusCode::UNAUTHENTICATED},
      {Status::PermissionDenied("a"), grpc::StatusCode::PERMISSION_DENIED},
      {Status::Aborted("a"), grpc::StatusCode::ABORTED},
      {Status::Unavailable("a"), grpc::StatusCode::UNAVAILABLE},
      {Status::DataLoss("a"), grpc::StatusCode::DATA_LOSS},
      {Status::Internal("a"), grpc::StatusCode::INTERNAL},
  };
  for (const auto& [status, code] : cases) {
    const grpc::Status mapped = rpc::ToGrpcStatus(status);
    CHECK(mapped.error_code() == code);
    if (!status.ok()) CHECK(mapped.error_message() == "a");
  }
}
