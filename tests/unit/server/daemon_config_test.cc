#include "server/daemon_config.h"

#include <catch2/catch.hpp>

using namespace hartonomous;

TEST_CASE("defaults and flags") {
  auto d = ParseDaemonFlags({});
  REQUIRE(d.ok());
  CHECK(d->listen == "127.0.0.1:50051");
  CHECK(d->data_dir == "data");
  CHECK(d->max_content_bytes == size_t{64} << 20);
  auto c = ParseDaemonFlags({"--listen", "0.0.0.0:0", "--data-dir=/srv/h", "--max-content-bytes",
                             "2M", "--log-format", "json"});
  REQUIRE(c.ok());
  CHECK(c->listen == "0.0.0.0:0");
  CHECK(c->data_dir == "/srv/h");
  CHECK(c->max_content_bytes == size_t{2} << 20);
  CHECK(c->log_format == "json");
}

TEST_CASE("bad flags name themselves") {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--nope"},
                                                                {"--listen"},
                                                                {"--listen", "noport"},
                                                                {"--log-level", "x"},
                                                                {"--max-content-bytes", "12Q"},
                                                                {"--max-content-bytes", "0"}}) {
    auto r = ParseDaemonFlags(args);
    INFO(args[0]);
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::StartsWith(args[0]));
  }
}

TEST_CASE("the testing-only start-up hold takes a file path") {
  auto d = ParseDaemonFlags({});
  REQUIRE(d.ok());
  CHECK(d->testing_hold_start_until.empty());
  auto c = ParseDaemonFlags({"--testing-hold-start-until", "hold/release"});
  REQUIRE(c.ok());
  CHECK(c->testing_hold_start_until == "hold/release");
  auto bad = ParseDaemonFlags({"--testing-hold-start-until="});
  CHECK(bad.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::StartsWith("--testing-hold-start-until"));
  CHECK_THAT(DaemonUsage(), Catch::Contains("--testing-hold-start-until"));
}

TEST_CASE("the testing-only compaction hold takes a file path") {
  auto d = ParseDaemonFlags({});
  REQUIRE(d.ok());
  CHECK(d->testing_hold_compaction_until.empty());
  auto c = ParseDaemonFlags({"--testing-hold-compaction-until", "hold/go"});
  REQUIRE(c.ok());
  CHECK(c->testing_hold_compaction_until == "hold/go");
  auto bad = ParseDaemonFlags({"--testing-hold-compaction-until="});
  CHECK(bad.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::StartsWith("--testing-hold-compaction-until"));
  CHECK_THAT(DaemonUsage(), Catch::Contains("--testing-hold-compaction-until"));
}
