#include "base/status.h"

#include <catch2/catch.hpp>

#include "base/grpc_code_name.h"

using hartonomous::CodeName;
using hartonomous::GrpcCodeName;
using hartonomous::Result;
using hartonomous::Status;

namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("x: must be even");
  return x / 2;
}

Status Quarter(int x, int* out) {
  HT_ASSIGN_OR_RETURN(int half, Half(x));
  HT_ASSIGN_OR_RETURN(*out, Half(half));
  return Status::Ok();
}

}  // namespace

TEST_CASE("Status carries a code and a message") {
  CHECK(Status::Ok().ok());
  Status s = Status::NotFound("atom_id: atom 7 does not exist");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == Status::Code::kNotFound);
  CHECK(s.ToString() == "NOT_FOUND: atom_id: atom 7 does not exist");
  CHECK(std::string(hartonomous::CodeName(Status::Code::kResourceExhausted)) ==
        "RESOURCE_EXHAUSTED");
}

TEST_CASE("GrpcCodeName names the gRPC specification's codes by number") {
  CHECK(std::string(GrpcCodeName(0)) == "OK");
  CHECK(std::string(GrpcCodeName(4)) == "DEADLINE_EXCEEDED");
  CHECK(std::string(GrpcCodeName(8)) == "RESOURCE_EXHAUSTED");
  CHECK(std::string(GrpcCodeName(16)) == "UNAUTHENTICATED");
  CHECK(GrpcCodeName(-1) == nullptr);
  CHECK(GrpcCodeName(17) == nullptr);
  // Every Status code's name is one of them.
  for (auto code : {Status::Code::kOk, Status::Code::kInvalidArgument, Status::Code::kNotFound,
                    Status::Code::kAlreadyExists, Status::Code::kFailedPrecondition,
                    Status::Code::kResourceExhausted, Status::Code::kUnauthenticated,
                    Status::Code::kPermissionDenied, Status::Code::kAborted,
                    Status::Code::kUnavailable, Status::Code::kDataLoss, Status::Code::kInternal,
                    Status::Code::kDeadlineExceeded, Status::Code::kCancelled}) {
    bool found = false;
    for (int n = 0; n <= 16; ++n) found = found || std::string(GrpcCodeName(n)) == CodeName(code);
    CHECK(found);
  }
}

TEST_CASE("Result and the macros propagate the first error") {
  int out = 0;
  CHECK(Quarter(8, &out).ok());
  CHECK(out == 2);
  Status s = Quarter(6, &out);  // 6/2 = 3 is odd
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(Half(3).status().message() == "x: must be even");
  CHECK(*Half(10) == 5);
}
