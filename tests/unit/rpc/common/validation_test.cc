#include "server/rpc/common/validation.h"

#include <catch2/catch.hpp>
#include <string>

using namespace hartonomous;
using namespace hartonomous::rpc;

TEST_CASE("shared rules: an atom id is required") {
  CHECK(ValidateAtomId(1).ok());
  const Status zero = ValidateAtomId(0);
  CHECK(zero.code() == Status::Code::kInvalidArgument);
  CHECK(zero.message() == "atom_id: required, must be > 0");
}

TEST_CASE("shared rules: a JSON metadata field is an object within its bytes and depth") {
  CHECK(ValidateJsonObject("metadata", "", kMaxMetadataBytes).ok());
  CHECK(ValidateJsonObject("metadata", R"({"a":[1,2]})", kMaxMetadataBytes).ok());
  CHECK(ValidateJsonObject("metadata", "[1]", kMaxMetadataBytes).code() ==
        Status::Code::kInvalidArgument);
  CHECK_THAT(ValidateJsonObject("x.metadata", R"({"a":"bcdef"})", 4).message(),
             Catch::StartsWith("x.metadata: "));
  const std::string deep = R"({"a":)" + std::string(3, '[') + std::string(3, ']') + "}";
  CHECK(ValidateJsonObject("metadata", deep, kMaxMetadataBytes, 4).ok());
  CHECK_FALSE(ValidateJsonObject("metadata", deep, kMaxMetadataBytes, 3).ok());
}
