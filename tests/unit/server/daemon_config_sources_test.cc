// The daemon's settings from flags, HARTONOMOUS_* variables and a config
// file: precedence, errors that name the setting and its source, and the
// printed configuration.
#include <catch2/catch.hpp>
#include <map>

#include "server/daemon_config.h"

using namespace hartonomous;

namespace {

// Config files held in memory, by path.
ConfigFileReader Files(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return Status::InvalidArgument("--config " + path + ": no such file");
    return it->second;
  };
}

}  // namespace

TEST_CASE("flags override the environment, which overrides the config file") {
  const auto files = Files({{"h.conf",
                             "# settings\n"
                             "max-threads = 32\n"
                             "  data-dir=/srv/file   # trailing comment\n"
                             "\n"
                             "max-search-k = 50\n"}});
  auto from_file = LoadDaemonConfig({"--config", "h.conf"}, {}, files);
  REQUIRE(from_file.ok());
  CHECK(from_file->max_threads == 32);
  CHECK(from_file->data_dir == "/srv/file");
  CHECK(from_file->max_search_k == 50);

  auto with_env =
      LoadDaemonConfig({"--config=h.conf"},
                       {"HARTONOMOUS_MAX_THREADS=64", "PATH=/bin", "OTHER_MAX_THREADS=1"}, files);
  REQUIRE(with_env.ok());
  CHECK(with_env->max_threads == 64);
  CHECK(with_env->data_dir == "/srv/file");

  auto with_flag = LoadDaemonConfig(
      {"--max-threads", "8"}, {"HARTONOMOUS_CONFIG=h.conf", "HARTONOMOUS_MAX_THREADS=64"}, files);
  REQUIRE(with_flag.ok());
  CHECK(with_flag->max_threads == 8);
  CHECK(with_flag->max_search_k == 50);  // the file named by HARTONOMOUS_CONFIG
}

TEST_CASE("every setting's environment variable is its flag in capitals") {
  auto c =
      LoadDaemonConfig({},
                       {"HARTONOMOUS_LISTEN=0.0.0.0:7000", "HARTONOMOUS_DATA_DIR=/data",
                        "HARTONOMOUS_METRICS_LISTEN=0.0.0.0:9464", "HARTONOMOUS_LOG_FORMAT=json",
                        "HARTONOMOUS_MAX_CONTENT_BYTES=2M", "HARTONOMOUS_SERVER=127.0.0.1:1"},
                       nullptr);
  REQUIRE(c.ok());
  CHECK(c->listen == "0.0.0.0:7000");
  CHECK(c->data_dir == "/data");
  CHECK(c->metrics_listen == "0.0.0.0:9464");
  CHECK(c->log_format == "json");
  CHECK(c->max_content_bytes == size_t{2} << 20);
}

TEST_CASE("unknown keys, wrong types and bad ports name the setting and its source") {
  const auto files = Files({{"unknown.conf", "listen = 127.0.0.1:1\nmax-thread = 4\n"},
                            {"type.conf", "max-search-k = many\n"},
                            {"port.conf", "metrics-listen = 127.0.0.1:70000\n"},
                            {"syntax.conf", "just words\n"},
                            {"testing.conf", "testing-hold-start-until = x\n"}});
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string starts_with;
  };
  const std::vector<Case> cases = {
      {{"--config", "unknown.conf"}, {}, "unknown.conf:2: max-thread: unknown setting"},
      {{"--config", "type.conf"}, {}, "type.conf:1: max-search-k: expected a byte count"},
      {{"--config", "port.conf"}, {}, "port.conf:1: metrics-listen: expected HOST:PORT"},
      {{"--config", "syntax.conf"}, {}, "syntax.conf:1: expected 'key = value'"},
      {{"--config", "testing.conf"}, {}, "testing.conf:1: testing-hold-start-until: unknown"},
      {{"--config", "missing.conf"}, {}, "--config missing.conf"},
      {{"--config"}, {}, "--config: needs a value"},
      {{}, {"HARTONOMOUS_NOPE=1"}, "HARTONOMOUS_NOPE: unknown setting"},
      {{}, {"HARTONOMOUS_MAX_THREADS=lots"}, "HARTONOMOUS_MAX_THREADS: threads in"},
      {{}, {"HARTONOMOUS_LISTEN=127.0.0.1:65536"}, "HARTONOMOUS_LISTEN: expected HOST:PORT"},
      {{"--listen", "127.0.0.1:http"}, {}, "--listen: expected HOST:PORT"},
      {{"--metrics-listen", "nowhere"}, {}, "--metrics-listen: expected HOST:PORT"},
  };
  for (const Case& c : cases) {
    auto r = LoadDaemonConfig(c.args, c.env, files);
    INFO(c.starts_with);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::StartsWith(c.starts_with));
  }
}

TEST_CASE("the printed configuration is a config file with secrets masked") {
  auto c =
      LoadDaemonConfig({"--metrics-token", "s3cret-token", "--max-threads", "12"}, {}, nullptr);
  REQUIRE(c.ok());
  const std::string printed = FormatDaemonConfig(*c);
  CHECK_THAT(printed, !Catch::Contains("s3cret-token"));
  CHECK_THAT(printed, Catch::Contains("metrics-token = ********"));
  CHECK_THAT(printed, Catch::Contains("max-threads = 12"));
  // Read back (less the masked secret) it gives the same configuration.
  std::string without_secret;
  size_t begin = 0;
  while (begin < printed.size()) {
    const size_t end = printed.find('\n', begin);
    const std::string line = printed.substr(begin, end - begin);
    if (line.rfind("metrics-token", 0) != 0) without_secret += line + "\n";
    begin = end + 1;
  }
  auto again = LoadDaemonConfig({"--config", "printed"}, {}, Files({{"printed", without_secret}}));
  REQUIRE(again.ok());
  CHECK(again->max_threads == 12);
  CHECK(again->metrics_token.empty());
  CHECK(FormatDaemonConfig(*again) ==
        FormatDaemonConfig(*LoadDaemonConfig({"--max-threads", "12"}, {}, nullptr)));
  auto unset = LoadDaemonConfig({}, {}, nullptr);
  REQUIRE(unset.ok());
  CHECK_THAT(FormatDaemonConfig(*unset), Catch::Contains("# metrics-token =   (unset)"));
}
