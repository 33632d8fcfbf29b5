#include "base/status.h"

#include <catch2/catch.hpp>

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

TEST_CASE("Result and the macros propagate the first error") {
  int out = 0;
  CHECK(Quarter(8, &out).ok());
  CHECK(out == 2);
  Status s = Quarter(6, &out);  // 6/2 = 3 is odd
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(Half(3).status().message() == "x: must be even");
  CHECK(*Half(10) == 5);
}
