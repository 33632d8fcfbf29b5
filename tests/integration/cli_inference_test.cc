// The `hartonomous inference ...` commands: the real CLI against a real
// hartonomousd, in text and --json, with a bad-input error.
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_util.h"
#include "daemon_harness.h"

namespace hartonomous::testing {
namespace {

using nlohmann::json;

TEST_CASE("cli: inference log, list, show and stats", "[cli][inference]") {
  Daemon daemon;
  JsonOf(Cli(daemon, {"--json", "model", "create", "--name", "llama"}));
  const json first = JsonOf(Cli(
      daemon, {"--json", "inference",    "log",   "--model",        "llama",    "--task",
               "chat",   "--input",      "hello", "--output",       "hi there", "--duration-ms",
               "12.5",   "--confidence", "0.9",   "--input-tokens", "3",        "--output-tokens",
               "4",      "--request-id", "r1"}));
  CHECK(first["already_logged"] == false);
  const uint64_t id = first["inference_id"].get<uint64_t>();
  const json again = JsonOf(Cli(daemon, {"--json", "inference", "log", "--model", "llama",
                                         "--duration-ms", "12.5", "--request-id", "r1"}));
  CHECK(again["already_logged"] == true);
  CHECK(again["inference_id"] == id);
  JsonOf(Cli(daemon, {"--json", "inference", "log", "--duration-ms", "30", "--attributes",
                      R"({"gen_ai.operation.name":"embeddings"})"}));

  const json listed = JsonOf(Cli(daemon, {"--json", "inference", "list", "--model", "llama"}));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["inference_id"] == id);
  CHECK(JsonOf(Cli(daemon, {"--json", "inference", "list"})).size() == 2);

  const json shown = JsonOf(Cli(daemon, {"--json", "inference", "show", std::to_string(id)}));
  CHECK(shown["input_text"] == "hello");
  CHECK(shown["output_text"] == "hi there");
  CHECK(shown["duration_ms"] == 12.5);

  const json stats = JsonOf(Cli(daemon, {"--json", "inference", "stats", "--by", "task"}));
  REQUIRE(stats["rows"].size() == 2);
  const ProcessResult table = Cli(daemon, {"inference", "stats", "--sort", "p99"});
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("P99_MS") != std::string::npos);
  CHECK(table.out.find("2 rows") != std::string::npos);

  const ProcessResult bad =
      Cli(daemon, {"inference", "log", "--duration-ms", "1", "--confidence", "2"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("confidence") != std::string::npos);
}

TEST_CASE("cli: inference prune deletes by age and keeps the newer", "[cli][inference]") {
  Daemon daemon;
  // One inference that started 48 hours ago, one now.
  const auto old_start = std::chrono::system_clock::now() - std::chrono::hours(48);
  v1::LogInferenceRequest old_row;
  old_row.set_task_type("chat");
  old_row.set_duration_ms(5);
  old_row.mutable_start_time()->set_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(old_start.time_since_epoch()).count());
  v1::LogInferenceResponse logged;
  REQUIRE(daemon.client().LogInference(old_row, &logged).ok());
  JsonOf(Cli(daemon, {"--json", "inference", "log", "--duration-ms", "7", "--input", "new"}));
  REQUIRE(JsonOf(Cli(daemon, {"--json", "inference", "list"})).size() == 2);

  const json pruned =
      JsonOf(Cli(daemon, {"--json", "inference", "prune", "--older-than-hours", "24"}));
  CHECK(pruned["inferences_deleted"] == 1);
  const json left = JsonOf(Cli(daemon, {"--json", "inference", "list"}));
  REQUIRE(left.size() == 1);
  CHECK(left[0]["inference_id"] != logged.inference_id());

  const ProcessResult missing = Cli(daemon, {"inference", "prune"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--older-than-hours") != std::string::npos);
}

}  // namespace
}  // namespace hartonomous::testing
