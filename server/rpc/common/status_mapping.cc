#include "server/rpc/common/status_mapping.h"

namespace hartonomous::rpc {
namespace {

// No default: -Wswitch flags a new Status code that is not mapped here.
grpc::StatusCode ToGrpcCode(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return grpc::StatusCode::OK;
    case Status::Code::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case Status::Code::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case Status::Code::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case Status::Code::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case Status::Code::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case Status::Code::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    case Status::Code::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case Status::Code::kAborted:
      return grpc::StatusCode::ABORTED;
    case Status::Code::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case Status::Code::kDataLoss:
      return grpc::StatusCode::DATA_LOSS;
    case Status::Code::kInternal:
      return grpc::StatusCode::INTERNAL;
    case Status::Code::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case Status::Code::kCancelled:
      return grpc::StatusCode::CANCELLED;
  }
  return grpc::StatusCode::UNKNOWN;
}

}  // namespace

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(ToGrpcCode(status.code()), status.message());
}

}  // namespace hartonomous::rpc
