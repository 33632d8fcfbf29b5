// --max-response-bytes (its relation to --max-content-bytes and protobuf's
// 2 GiB limit) and the conversions that truncate to the response budget.
#include <catch2/catch.hpp>

#include "server/daemon_config.h"
#include "server/rpc/search/search_convert.h"

using namespace hartonomous;

TEST_CASE("the response size flag defaults to 256M and leaves room for one maximal atom",
          "[budget][flags]") {
  auto d = ParseDaemonFlags({});
  REQUIRE(d.ok());
  CHECK(d->max_response_bytes == size_t{256} << 20);
  auto ok = ParseDaemonFlags({"--max-content-bytes", "1M", "--max-response-bytes", "5M"});
  REQUIRE(ok.ok());
  CHECK(ok->max_response_bytes == size_t{5} << 20);

  auto small = ParseDaemonFlags({"--max-content-bytes", "1M", "--max-response-bytes", "4M"});
  CHECK(small.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(small.status().message(),
             Catch::StartsWith("--max-response-bytes: must be >= --max-content-bytes + 4M"));
  // The default budget is too small for a larger content limit.
  auto content = ParseDaemonFlags({"--max-content-bytes", "300M", "--max-batch-bytes", "1G"});
  CHECK_THAT(content.status().message(), Catch::StartsWith("--max-response-bytes: must be >="));
  auto huge = ParseDaemonFlags({"--max-response-bytes", "2G"});
  CHECK(huge.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(huge.status().message(),
             Catch::StartsWith("--max-response-bytes: must be <=") && Catch::Contains("2 GiB"));
  CHECK(ParseDaemonFlags({"--max-response-bytes", "0"}).status().code() ==
        Status::Code::kInvalidArgument);
  CHECK_THAT(DaemonUsage(), Catch::Contains("--max-response-bytes N"));
}

TEST_CASE("a SpatialQuery response is truncated at the budget and says so", "[budget][spatial]") {
  engine::SpatialQueryResult result;
  for (uint64_t i = 1; i <= 1000; ++i) {
    result.hits.push_back(engine::SpatialQueryHit{i, i, index::Point3{1.5, 2.5, 3.5}, 0.25 * i});
  }
  engine::ResponseBudget budget(10000);
  v1::SpatialQueryResponse response;
  rpc::ToProto(result, budget, &response);
  CHECK(response.truncated());
  CHECK(response.hits_size() > 50);
  CHECK(response.hits_size() < 1000);
  CHECK(response.ByteSizeLong() <= 10000);
  for (int i = 0; i < response.hits_size(); ++i)
    CHECK(response.hits(i).atom_id() == uint64_t(i + 1));

  engine::ResponseBudget roomy(1 << 20);
  v1::SpatialQueryResponse all;
  rpc::ToProto(result, roomy, &all);
  CHECK_FALSE(all.truncated());
  CHECK(all.hits_size() == 1000);
}
