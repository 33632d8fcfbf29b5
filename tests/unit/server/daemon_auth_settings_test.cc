// The daemon's authentication settings: the bootstrap admin key from a
// flag, the environment or a file, --insecure in its three forms, and which
// listen addresses count as loopback.
#include <catch2/catch.hpp>
#include <fstream>

#include "server/daemon_config.h"
#include "tests/unit/temp_dir.h"

using namespace hartonomous;

namespace {
const std::string kKey = "0123456789abcdef0123456789abcdef";
}  // namespace

TEST_CASE("admin key: from the environment, masked in --print-config, rules checked") {
  auto config = LoadDaemonConfig({}, {"HARTONOMOUS_ADMIN_KEY=" + kKey}, nullptr);
  REQUIRE(config.ok());
  CHECK(config->admin_key == kKey);
  CHECK(ReadAdminKey(*config).value() == kKey);
  const std::string printed = FormatDaemonConfig(*config);
  CHECK(printed.find(kKey) == std::string::npos);
  CHECK(printed.find("admin-key = ********") != std::string::npos);

  auto short_key = LoadDaemonConfig({"--admin-key", "short"}, {}, nullptr);
  REQUIRE_FALSE(short_key.ok());
  CHECK(short_key.status().message().rfind("--admin-key: ", 0) == 0);
  auto spaced = LoadDaemonConfig({}, {"HARTONOMOUS_ADMIN_KEY=" + kKey + " x"}, nullptr);
  REQUIRE_FALSE(spaced.ok());
  CHECK(spaced.status().message().rfind("HARTONOMOUS_ADMIN_KEY: ", 0) == 0);
  auto both = LoadDaemonConfig({"--admin-key", kKey, "--admin-key-file", "/k"}, {}, nullptr);
  REQUIRE_FALSE(both.ok());
  CHECK(both.status().message().find("not together") != std::string::npos);
  // The client's variable is not a setting of the daemon.
  CHECK(LoadDaemonConfig({}, {"HARTONOMOUS_API_KEY=anything"}, nullptr).ok());
}

TEST_CASE("admin key file: read at start, whitespace trimmed, errors name the file") {
  testing::TempDir dir;
  const std::string path = dir.dir() + "/admin.key";
  std::ofstream(path) << "\n  " << kKey << "\n";
  auto config = LoadDaemonConfig({"--admin-key-file", path}, {}, nullptr);
  REQUIRE(config.ok());
  auto key = ReadAdminKey(*config);
  REQUIRE(key.ok());
  CHECK(*key == kKey);

  std::ofstream(path, std::ios::trunc) << "too-short\n";
  auto bad = ReadAdminKey(*config);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("--admin-key-file " + path) == 0);
  config->admin_key_file = dir.dir() + "/missing";
  CHECK_FALSE(ReadAdminKey(*config).ok());
  DaemonConfig none;
  CHECK(ReadAdminKey(none).value().empty());
}

TEST_CASE("insecure: a bare flag, a value, the environment") {
  CHECK_FALSE(LoadDaemonConfig({}, {}, nullptr)->insecure);
  CHECK(LoadDaemonConfig({"--insecure"}, {}, nullptr)->insecure);
  CHECK_FALSE(LoadDaemonConfig({"--insecure=false"}, {}, nullptr)->insecure);
  CHECK(LoadDaemonConfig({}, {"HARTONOMOUS_INSECURE=true"}, nullptr)->insecure);
  auto bad = LoadDaemonConfig({}, {"HARTONOMOUS_INSECURE=yes"}, nullptr);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("true or false") != std::string::npos);
}

TEST_CASE("loopback listen addresses") {
  CHECK(ListensOnLoopback("127.0.0.1:50051"));
  CHECK(ListensOnLoopback("127.1.2.3:0"));
  CHECK(ListensOnLoopback("localhost:50051"));
  CHECK(ListensOnLoopback("[::1]:50051"));
  CHECK(ListensOnLoopback("unix:/run/hartonomous.sock"));
  CHECK_FALSE(ListensOnLoopback("0.0.0.0:50051"));
  CHECK_FALSE(ListensOnLoopback("[::]:50051"));
  CHECK_FALSE(ListensOnLoopback("10.0.0.5:50051"));
  CHECK_FALSE(ListensOnLoopback("128.0.0.1:50051"));
  CHECK_FALSE(ListensOnLoopback("db.example:50051"));
}
