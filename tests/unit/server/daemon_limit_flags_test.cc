// hartonomousd's flags that bound concurrency: --max-threads and
// --max-concurrent-streams.
#include <catch2/catch.hpp>

#include "server/daemon_config.h"

using namespace hartonomous;

TEST_CASE("concurrency flags have defaults and accept values") {
  auto defaults = ParseDaemonFlags({});
  REQUIRE(defaults.ok());
  CHECK(defaults->max_threads == 256);
  CHECK(defaults->max_concurrent_streams == 100);
  auto set = ParseDaemonFlags({"--max-threads", "16", "--max-concurrent-streams=8"});
  REQUIRE(set.ok());
  CHECK(set->max_threads == 16);
  CHECK(set->max_concurrent_streams == 8);
}

TEST_CASE("concurrency flags name themselves and their range when wrong") {
  for (auto args : std::vector<std::vector<std::string>>{{"--max-threads", "2"},
                                                         {"--max-threads", "x"},
                                                         {"--max-concurrent-streams", "0"},
                                                         {"--max-concurrent-streams", "-1"}}) {
    auto parsed = ParseDaemonFlags(args);
    INFO(args[0] << " " << args[1]);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(parsed.status().message(), Catch::StartsWith(args[0] + ":"));
  }
  // The range named is the one enforced, minimum included.
  auto low = ParseDaemonFlags({"--max-threads", "x"});
  CHECK(low.status().message() == "--max-threads: threads in [4, 100000], got 'x'");
  CHECK_THAT(DaemonUsage(), Catch::Contains("--max-threads"));
  CHECK_THAT(DaemonUsage(), Catch::Contains("--max-concurrent-streams"));
}
