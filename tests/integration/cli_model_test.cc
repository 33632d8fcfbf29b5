// The `hartonomous model ...` commands: the real CLI against a real
// hartonomousd, in text and --json, with their errors and help.
#include <catch2/catch.hpp>
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

std::string WriteConfig(const TempDir& dir, const std::string& text) {
  const std::string path = dir.path() + "/config.json";
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  REQUIRE(file.good());
  return path;
}

TEST_CASE("cli: model create, list, show and delete", "[cli][models]") {
  Daemon daemon;
  TempDir dir;
  const std::string config = WriteConfig(dir, R"({"hidden_size": 2048, "num_layers": 16})");
  const json created =
      JsonOf(Cli(daemon, {"--json", "model", "create", "--name", "meta-llama/Llama-3.2-1B",
                          "--type", "transformer", "--architecture", "llama", "--config-json",
                          config, "--license", "llama3.2"}));
  CHECK(created["model_name"] == "meta-llama/Llama-3.2-1B");
  CHECK(created["config_json"]["hidden_size"] == 2048);
  CHECK(created["metadata"]["license"] == "llama3.2");
  const uint64_t id = created["model_id"].get<uint64_t>();
  JsonOf(Cli(daemon, {"--json", "model", "create", "--name", "bert-base", "--type", "transformer",
                      "--architecture", "bert"}));
  JsonOf(Cli(daemon, {"--json", "model", "create", "--name", "resnet50", "--type", "cnn"}));

  // Layers come from the API (import is a later command): add a model with
  // two through the client and show it.
  v1::CreateModelRequest with_layers;
  with_layers.mutable_model()->set_model_name("tiny");
  for (uint32_t i = 0; i < 2; ++i) {
    v1::ModelLayer* layer = with_layers.add_layers();
    layer->set_layer_idx(i);
    layer->set_layer_name(i == 0 ? "token_embd.weight" : "output_norm.weight");
    layer->add_tensor_shape(8);
    layer->set_tensor_dtype("F16");
  }
  v1::Model tiny;
  REQUIRE(daemon.client().CreateModel(with_layers, &tiny).ok());

  const json all = JsonOf(Cli(daemon, {"model", "list", "--json"}));
  REQUIRE(all.size() == 4);
  CHECK(all[0]["model_id"] == id);
  const json transformers =
      JsonOf(Cli(daemon, {"model", "list", "--type", "transformer", "--json"}));
  REQUIRE(transformers.size() == 2);
  CHECK(transformers[1]["model_name"] == "bert-base");
  const json llamas = JsonOf(Cli(daemon, {"--json", "model", "list", "--architecture", "llama"}));
  REQUIRE(llamas.size() == 1);
  CHECK(llamas[0]["model_id"] == id);
  CHECK(JsonOf(Cli(daemon, {"--json", "model", "list", "--name", "resnet50"})).size() == 1);
  CHECK(
      JsonOf(Cli(daemon, {"--json", "model", "list", "--page-size", "1", "--limit", "3"})).size() ==
      3);

  const ProcessResult table = Cli(daemon, {"model", "list", "--type", "transformer"});
  INFO(table.out << table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("meta-llama/Llama-3.2-1B") != std::string::npos);
  CHECK(table.out.find("resnet50") == std::string::npos);
  CHECK(table.out.find("2 models") != std::string::npos);

  // show by name and by id, with the layers.
  const json shown = JsonOf(Cli(daemon, {"--json", "model", "show", "tiny"}));
  CHECK(shown["layer_count"] == 2);
  REQUIRE(shown["layers"].size() == 2);
  CHECK(shown["layers"][0]["layer_type"] == "embedding");
  CHECK(shown["layers"][1]["layer_type"] == "norm");
  CHECK(shown["layers"][1]["tensor_shape"] == json::array({8}));
  const ProcessResult text = Cli(daemon, {"model", "show", std::to_string(tiny.model_id())});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("output_norm.weight") != std::string::npos);
  CHECK(text.out.find("F16") != std::string::npos);

  const json deleted = JsonOf(Cli(daemon, {"--json", "model", "delete", "tiny"}));
  CHECK(deleted["model_id"] == tiny.model_id());
  CHECK(deleted["layers_deleted"] == 2);
  const ProcessResult gone = Cli(daemon, {"model", "show", "tiny"});
  CHECK(gone.exit_code == 1);
  CHECK(gone.err.find("NOT_FOUND") != std::string::npos);
  CHECK(JsonOf(Cli(daemon, {"--json", "model", "list"})).size() == 3);
}

TEST_CASE("cli: model update changes only the fields given", "[cli][models]") {
  Daemon daemon;
  const json created =
      JsonOf(Cli(daemon, {"--json", "model", "create", "--name", "m1", "--type", "transformer",
                          "--architecture", "llama", "--license", "mit"}));
  const std::string id = std::to_string(created["model_id"].get<uint64_t>());
  const json updated =
      JsonOf(Cli(daemon, {"--json", "model", "update", "m1", "--architecture", "mistral"}));
  CHECK(updated["architecture"] == "mistral");
  CHECK(updated["model_type"] == "transformer");  // not in the mask: kept
  CHECK(updated["metadata"]["license"] == "mit");
  const json renamed = JsonOf(
      Cli(daemon, {"--json", "model", "update", id, "--name", "m2", "--license", "apache-2.0"}));
  CHECK(renamed["model_name"] == "m2");
  CHECK(renamed["metadata"]["license"] == "apache-2.0");
  CHECK(renamed["architecture"] == "mistral");
  const json shown = JsonOf(Cli(daemon, {"--json", "model", "show", "m2"}));
  CHECK(shown["metadata"]["license"] == "apache-2.0");

  const ProcessResult nothing = Cli(daemon, {"model", "update", "m2"});
  CHECK(nothing.exit_code == 2);
  CHECK(nothing.err.find("at least one field") != std::string::npos);
  const ProcessResult by_name = Cli(daemon, {"model", "update", "m2", "--name", "m3"});
  CHECK(by_name.exit_code == 2);
  CHECK(by_name.err.find("id") != std::string::npos);
}

TEST_CASE("cli: model errors and help", "[cli][models]") {
  Daemon daemon;
  TempDir dir;
  JsonOf(Cli(daemon, {"--json", "model", "create", "--name", "m"}));
  const ProcessResult dup = Cli(daemon, {"model", "create", "--name", "m"});
  CHECK(dup.exit_code == 1);
  CHECK(dup.err.find("ALREADY_EXISTS") != std::string::npos);

  const ProcessResult bad_config =
      Cli(daemon, {"model", "create", "--name", "n", "--config-json", WriteConfig(dir, "[1]")});
  CHECK(bad_config.exit_code == 1);
  CHECK(bad_config.err.find("INVALID_ARGUMENT: model.config_json") != std::string::npos);
  const ProcessResult missing_file =
      Cli(daemon, {"model", "create", "--name", "n", "--config-json", dir.path() + "/nope.json"});
  CHECK(missing_file.exit_code == 1);
  CHECK(missing_file.err.find("cannot read") != std::string::npos);

  const ProcessResult no_name = Cli(daemon, {"model", "create"});
  CHECK(no_name.exit_code == 2);
  CHECK(no_name.err.find("--name") != std::string::npos);
  const ProcessResult no_verb = Cli(daemon, {"model"});
  CHECK(no_verb.exit_code == 2);
  CHECK(no_verb.err.find("list, show, create, update, delete") != std::string::npos);
  const ProcessResult bad_verb = Cli(daemon, {"model", "frobnicate"});
  CHECK(bad_verb.exit_code == 2);
  CHECK(bad_verb.err.find("unknown command 'model frobnicate'") != std::string::npos);
  const ProcessResult no_arg = Cli(daemon, {"model", "show"});
  CHECK(no_arg.exit_code == 2);

  const ProcessResult help = Cli(daemon, {"help", "model", "list"});
  REQUIRE(help.exit_code == 0);
  CHECK(help.out.find("usage: hartonomous model list") != std::string::npos);
  CHECK(help.out.find("--architecture A") != std::string::npos);
  const ProcessResult usage = Cli(daemon, {"help"});
  REQUIRE(usage.exit_code == 0);
  CHECK(usage.out.find("model show MODEL") != std::string::npos);
  const ProcessResult flag_help = Cli(daemon, {"model", "delete", "--help"});
  REQUIRE(flag_help.exit_code == 0);
  CHECK(flag_help.out.find("usage: hartonomous model delete MODEL") != std::string::npos);
}

}  // namespace
}  // namespace hartonomous::testing
