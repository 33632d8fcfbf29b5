// hartonomousd's flags that bound concurrency: --max-threads,
// --max-concurrent-streams, --stream-window-bytes and --work-threads.
#include <catch2/catch.hpp>

#include "server/daemon_config.h"

using namespace hartonomous;

TEST_CASE("concurrency flags have defaults and accept values") {
  auto defaults = ParseDaemonFlags({});
  REQUIRE(defaults.ok());
  CHECK(defaults->max_threads == 256);
  CHECK(defaults->max_concurrent_streams == 100);
  CHECK(defaults->work_threads == 0);  // twice the cores, at least 4
  auto set = ParseDaemonFlags(
      {"--max-threads", "16", "--max-concurrent-streams=8", "--work-threads", "3"});
  REQUIRE(set.ok());
  CHECK(set->max_threads == 16);
  CHECK(set->max_concurrent_streams == 8);
  CHECK(set->work_threads == 3);
}

TEST_CASE("concurrency flags name themselves and their range when wrong") {
  for (auto args : std::vector<std::vector<std::string>>{{"--max-threads", "2"},
                                                         {"--max-threads", "x"},
                                                         {"--max-concurrent-streams", "0"},
                                                         {"--max-concurrent-streams", "-1"},
                                                         {"--work-threads", "1025"},
                                                         {"--work-threads", "many"}}) {
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
  CHECK_THAT(DaemonUsage(), Catch::Contains("--work-threads"));
  CHECK(ParseDaemonFlags({"--work-threads", "2000"}).status().message() ==
        "--work-threads: threads in [0, 1024], got '2000'");
}

TEST_CASE("serving flags: the call limit, keepalive and connection age") {
  auto defaults = ParseDaemonFlags({});
  REQUIRE(defaults.ok());
  CHECK(defaults->max_concurrent_calls == 1024);
  CHECK(defaults->keepalive_seconds == 7200);
  CHECK(defaults->keepalive_timeout_seconds == 20);
  CHECK(defaults->max_connection_idle_seconds == 0);
  CHECK(defaults->max_connection_age_seconds == 0);
  auto set = ParseDaemonFlags({"--max-concurrent-calls", "64", "--keepalive-seconds=30",
                               "--keepalive-timeout-seconds", "5", "--max-connection-idle-seconds",
                               "600", "--max-connection-age-seconds", "3600"});
  REQUIRE(set.ok());
  CHECK(set->max_concurrent_calls == 64);
  CHECK(set->keepalive_seconds == 30);
  CHECK(set->keepalive_timeout_seconds == 5);
  CHECK(set->max_connection_idle_seconds == 600);
  CHECK(set->max_connection_age_seconds == 3600);
  for (auto args : std::vector<std::vector<std::string>>{{"--max-concurrent-calls", "0"},
                                                         {"--keepalive-seconds", "0"},
                                                         {"--keepalive-timeout-seconds", "x"},
                                                         {"--max-connection-age-seconds", "-1"}}) {
    auto parsed = ParseDaemonFlags(args);
    INFO(args[0] << " " << args[1]);
    REQUIRE_FALSE(parsed.ok());
    CHECK_THAT(parsed.status().message(), Catch::StartsWith(args[0] + ":"));
  }
  CHECK(ParseDaemonFlags({"--max-concurrent-calls", "0"}).status().message() ==
        "--max-concurrent-calls: calls in [1, 1000000], got '0'");
  for (const char* flag :
       {"--max-concurrent-calls", "--keepalive-seconds", "--keepalive-timeout-seconds",
        "--max-connection-idle-seconds", "--max-connection-age-seconds"}) {
    CHECK_THAT(DaemonUsage(), Catch::Contains(flag));
  }
}

TEST_CASE("stream window flag: default 4 MiB, units, and its range named when wrong") {
  auto defaults = ParseDaemonFlags({});
  REQUIRE(defaults.ok());
  CHECK(defaults->stream_window_bytes == (size_t{4} << 20));
  auto set = ParseDaemonFlags({"--stream-window-bytes", "64K"});
  REQUIRE(set.ok());
  CHECK(set->stream_window_bytes == 65536);
  auto top = ParseDaemonFlags({"--stream-window-bytes=1G"});
  REQUIRE(top.ok());
  CHECK(top->stream_window_bytes == (size_t{1} << 30));
  CHECK(ParseDaemonFlags({"--stream-window-bytes", "65535"}).status().message() ==
        "--stream-window-bytes: must be in [64K, 1G], got '65535'");
  CHECK(ParseDaemonFlags({"--stream-window-bytes", "2G"}).status().message() ==
        "--stream-window-bytes: must be in [64K, 1G], got '2G'");
  CHECK_THAT(ParseDaemonFlags({"--stream-window-bytes", "lots"}).status().message(),
             Catch::StartsWith("--stream-window-bytes:"));
  CHECK_THAT(DaemonUsage(), Catch::Contains("--stream-window-bytes"));
}

TEST_CASE("scan threads flag: default 0 (the cores), a count, and its range named when wrong") {
  auto defaults = ParseDaemonFlags({});
  REQUIRE(defaults.ok());
  CHECK(defaults->scan_threads == 0);
  auto one = ParseDaemonFlags({"--scan-threads", "1"});
  REQUIRE(one.ok());
  CHECK(one->scan_threads == 1);
  auto top = ParseDaemonFlags({"--scan-threads=1024"});
  REQUIRE(top.ok());
  CHECK(top->scan_threads == 1024);
  CHECK_THAT(ParseDaemonFlags({"--scan-threads", "1025"}).status().message(),
             Catch::StartsWith("--scan-threads:"));
  CHECK_THAT(ParseDaemonFlags({"--scan-threads", "-1"}).status().message(),
             Catch::StartsWith("--scan-threads:"));
  CHECK_THAT(DaemonUsage(), Catch::Contains("--scan-threads"));
}
