// The `hartonomous inference ...` commands: the real CLI against a real
// hartonomousd, in text and --json, with a bad-input error.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_util.h"
#include "daemon_harness.h"
#include "test_util.h"

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

TEST_CASE("cli: activation put and get round-trip a layer's cached activation",
          "[cli][inference]") {
  Daemon daemon;
  TempDir dir;
  v1::CreateModelRequest create;
  create.mutable_model()->set_model_name("act");
  v1::ModelLayer* layer = create.add_layers();
  layer->set_layer_idx(0);
  layer->set_layer_name("dense");
  layer->add_tensor_shape(2);
  layer->add_tensor_shape(2);
  layer->set_tensor_dtype("F32");
  v1::Model model;
  REQUIRE(daemon.client().CreateModel(create, &model).ok());
  v1::ListLayersRequest list;
  list.set_model_id(model.model_id());
  std::vector<uint64_t> layer_ids;
  REQUIRE(daemon.client()
              .ListLayers(list,
                          [&](const v1::ModelLayer& l) {
                            layer_ids.push_back(l.layer_id());
                            return true;
                          })
              .ok());
  REQUIRE(layer_ids.size() == 1);
  const std::string layer_id = std::to_string(layer_ids[0]);

  const std::string input = dir.path() + "/input.txt";
  const std::string data = dir.path() + "/act.bin";
  const std::string back = dir.path() + "/back.bin";
  std::ofstream(input) << "the prompt";
  const std::string bytes = "0123456789abcdef";  // 4 floats' worth of bytes
  std::ofstream(data, std::ios::binary) << bytes;

  const ProcessResult missing =
      Cli(daemon, {"--json", "activation", "get", layer_id, "--input", input});
  CHECK(missing.exit_code == 1);
  CHECK(json::parse(missing.out)["found"] == false);

  const json put =
      JsonOf(Cli(daemon, {"--json", "activation", "put", layer_id, "--input", input, "--data", data,
                          "--shape", "2,2", "--dtype", "F32", "--compute-ms", "4"}));
  CHECK(put["bytes"] == 16);
  CHECK(put["input_hash"] == Sha256Hex("the prompt"));

  const json got = JsonOf(Cli(daemon, {"--json", "activation", "get", layer_id, "--input-hash",
                                       Sha256Hex("the prompt"), "-o", back}));
  CHECK(got["found"] == true);
  CHECK(got["shape"] == json::array({2, 2}));
  CHECK(got["hits"] == 1);
  CHECK(ReadFile(back) == bytes);

  const ProcessResult bad_shape = Cli(daemon, {"activation", "put", layer_id, "--input", input,
                                               "--data", data, "--shape", "4", "--dtype", "F32"});
  CHECK(bad_shape.exit_code == 1);
  CHECK(bad_shape.err.find("shape") != std::string::npos);
  const ProcessResult both = Cli(
      daemon, {"activation", "get", layer_id, "--input", input, "--input-hash", Sha256Hex("x")});
  CHECK(both.exit_code == 2);
}

}  // namespace
}  // namespace hartonomous::testing
