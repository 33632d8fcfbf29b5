// The CLI's collection, embedding and policy commands, its checks of
// --server, its "did you mean" and its errors (text and --json): the real
// `hartonomous` against a real daemon.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_util.h"
#include "daemon_harness.h"

namespace hartonomous::testing {
namespace {

using nlohmann::json;

std::string Write(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::string Fvecs(const std::vector<std::vector<float>>& rows) {
  std::string out;
  for (const auto& r : rows) {
    const int32_t dim = static_cast<int32_t>(r.size());
    out.append(reinterpret_cast<const char*>(&dim), 4);
    out.append(reinterpret_cast<const char*>(r.data()), r.size() * 4);
  }
  return out;
}

// Ingests `n` text atoms; returns their ids.
std::vector<uint64_t> IngestTexts(const Daemon& daemon, const TempDir& dir, int n) {
  std::vector<std::string> args = {"--json", "ingest"};
  for (int i = 0; i < n; ++i) {
    args.push_back(Write(dir, "t" + std::to_string(i) + ".txt", "text " + std::to_string(i)));
  }
  const json out = JsonOf(Cli(daemon, args));
  std::vector<uint64_t> ids;
  for (const auto& r : out["results"]) ids.push_back(r["atom_id"].get<uint64_t>());
  return ids;
}

// The JSON error object a failed --json command printed on stderr.
json ErrorOf(const ProcessResult& result) {
  INFO("stdout: " << result.out << "\nstderr: " << result.err);
  REQUIRE(result.exit_code != 0);
  const json parsed = json::parse(result.err);
  REQUIRE(parsed.contains("error"));
  return parsed["error"];
}

}  // namespace

TEST_CASE("collections create, show, list and delete", "[cli][collections]") {
  Daemon daemon;
  const json created = JsonOf(Cli(daemon, {"--json", "collections", "create", "notes", "--dim", "3",
                                           "--metric", "l2", "--index", "flat"}));
  CHECK(created["name"] == "notes");
  CHECK(created["dimension"] == 3);
  CHECK(created["metric"] == "l2");
  CHECK(created["index"]["kind"] == "flat");

  const json shown = JsonOf(Cli(daemon, {"--json", "collections", "show", "notes"}));
  CHECK(shown["collection_id"] == created["collection_id"]);
  const json listed = JsonOf(Cli(daemon, {"--json", "collections", "list"}));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["name"] == "notes");
  // `collections` alone still lists.
  CHECK(JsonOf(Cli(daemon, {"--json", "collections"})) == listed);

  // The README's first vector command works once the collection exists.
  TempDir dir;
  const std::string note = Write(dir, "c1.txt", "a note with a vector");
  const json ingested =
      JsonOf(Cli(daemon, {"--json", "ingest", "--collection", "notes", "--vector", "1,0,0", note}));
  CHECK(ingested["atoms_created"] == 1);
  CHECK(JsonOf(Cli(daemon, {"--json", "collections", "show", "notes"}))["vector_count"] == 1);

  const json again =
      ErrorOf(Cli(daemon, {"--json", "collections", "create", "notes", "--dim", "3"}));
  CHECK(again["code"] == "ALREADY_EXISTS");
  const ProcessResult no_dim = Cli(daemon, {"collections", "create", "x"});
  CHECK(no_dim.exit_code == 2);
  CHECK(no_dim.err.find("--dim is required") != std::string::npos);

  const json deleted = JsonOf(Cli(daemon, {"--json", "collections", "delete", "notes"}));
  CHECK(deleted["deleted"] == "notes");
  const json gone = ErrorOf(Cli(daemon, {"--json", "collections", "show", "notes"}));
  CHECK(gone["code"] == "NOT_FOUND");
  CHECK(gone["field"] == "collection");
}

TEST_CASE("add-embeddings from .fvecs, CSV and JSON lines", "[cli][collections]") {
  Daemon daemon;
  TempDir dir;
  const std::vector<uint64_t> ids = IngestTexts(daemon, dir, 4);
  REQUIRE(JsonOf(Cli(daemon, {"--json", "collections", "create", "v", "--dim", "2", "--metric",
                              "l2", "--index", "flat"}))["name"] == "v");

  const std::string fvecs = Write(dir, "rows.fvecs", Fvecs({{0, 0}, {10, 0}}));
  const std::string id_list = std::to_string(ids[0]) + "," + std::to_string(ids[1]);
  json added = JsonOf(Cli(daemon, {"--json", "add-embeddings", "v", fvecs, "--atoms", id_list}));
  CHECK(added["embeddings_added"] == 2);

  const std::string csv =
      Write(dir, "rows.csv", "atom_id,x,y\n" + std::to_string(ids[2]) + ",0,10\n# comment\n");
  added = JsonOf(Cli(daemon, {"--json", "add-embeddings", "v", csv}));
  CHECK(added["embeddings_added"] == 1);

  const std::string jsonl =
      Write(dir, "rows.jsonl",
            "{\"document_id\": " + std::to_string(ids[3]) +
                ", \"vector\": [10, 10], \"metadata\": {\"k\": 1}}\n" +
                "{\"atom_id\": " + std::to_string(ids[0]) + ", \"vector\": [0.5, 0]}\n");
  added = JsonOf(Cli(daemon, {"--json", "add-embeddings", "v", jsonl}));
  CHECK(added["embeddings_added"] == 2);
  CHECK(added["embeddings_replaced"] == 1);  // ids[0] had a vector from the .fvecs file
  CHECK(JsonOf(Cli(daemon, {"--json", "collections", "show", "v"}))["vector_count"] == 4);

  // Each vector is found where the file put it.
  const json near = JsonOf(Cli(daemon, {"--json", "search", "v", "--vector", "0,9", "--k", "1"}));
  CHECK(near["results"][0]["atom_id"] == ids[2]);
  const json far = JsonOf(Cli(daemon, {"--json", "search", "v", "--vector", "9,9", "--k", "1"}));
  CHECK(far["results"][0]["atom_id"] == ids[3]);

  // The stored vectors and metadata, then one deleted and the index rebuilt.
  const json shown = JsonOf(
      Cli(daemon, {"--json", "embeddings", "show", std::to_string(ids[3]), "--collection", "v"}));
  REQUIRE(shown.size() == 1);
  CHECK(shown[0]["vector"] == json::array({10.0, 10.0}));
  CHECK(shown[0]["metadata"] == json{{"k", 1}});
  CHECK(JsonOf(Cli(daemon, {"--json", "embeddings", "delete", "v",
                            std::to_string(ids[3])}))["deleted_atom_id"] == ids[3]);
  CHECK(JsonOf(Cli(daemon, {"--json", "embeddings", "show", std::to_string(ids[3])})).empty());
  const json rebuilt = JsonOf(Cli(daemon, {"--json", "collections", "rebuild", "v"}));
  CHECK(rebuilt["vector_count"] == 3);
  CHECK(rebuilt["deleted_count"] == 0);
  CHECK(JsonOf(Cli(daemon, {"--json", "collections", "snapshot", "v"}))["snapshot"]["watermark"] >
        0);

  // Mistakes are reported before anything is stored, naming the line or field.
  const std::string bad_csv = Write(dir, "bad.csv", std::to_string(ids[0]) + ",1,x\n");
  const ProcessResult bad = Cli(daemon, {"add-embeddings", "v", bad_csv});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("bad.csv:1: column 3 is not a finite number") != std::string::npos);
  const json wrong_dim = ErrorOf(Cli(
      daemon, {"--json", "add-embeddings", "v",
               Write(dir, "d3.jsonl",
                     "{\"atom_id\": " + std::to_string(ids[1]) + ", \"vector\": [1, 2, 3]}\n")}));
  CHECK(wrong_dim["code"] == "INVALID_ARGUMENT");
  CHECK(wrong_dim["field"] == "embeddings[0].vector");
  const ProcessResult count = Cli(daemon, {"add-embeddings", "v", fvecs, "--atoms", "1"});
  CHECK(count.exit_code == 2);
  CHECK(count.err.find("has 2 rows") != std::string::npos);
  const json missing = ErrorOf(Cli(daemon, {"--json", "add-embeddings", "nope", csv}));
  CHECK(missing["code"] == "NOT_FOUND");
  CHECK(JsonOf(Cli(daemon, {"--json", "collections"})).size() == 1);  // nothing created
}

TEST_CASE("policies list, create, update and delete", "[cli][policies]") {
  Daemon daemon;
  const size_t builtin = JsonOf(Cli(daemon, {"--json", "policies", "list"})).size();
  const json created = JsonOf(Cli(daemon, {"--json", "policies", "create", "loose", "--semantic",
                                           "0.9", "--metadata", R"({"owner": "cli"})"}));
  CHECK(created["semantic_threshold"] == 0.9);
  CHECK(created["spatial_threshold"] == nullptr);
  CHECK(created["metadata"] == json{{"owner", "cli"}});
  CHECK(JsonOf(Cli(daemon, {"--json", "policies", "list"})).size() == builtin + 1);

  const json updated = JsonOf(Cli(daemon, {"--json", "policies", "update", "loose", "--semantic",
                                           "none", "--spatial", "2", "--inactive"}));
  CHECK(updated["semantic_threshold"] == nullptr);
  CHECK(updated["spatial_threshold"] == 2.0);
  CHECK(updated["is_active"] == false);
  const json inactive = JsonOf(Cli(daemon, {"--json", "policies", "list", "--inactive"}));
  REQUIRE(inactive.size() == 1);
  CHECK(inactive[0]["policy_name"] == "loose");

  const json renamed =
      JsonOf(Cli(daemon, {"--json", "policies", "update", "loose", "--name", "tight"}));
  CHECK(renamed["policy_name"] == "tight");
  CHECK(renamed["policy_id"] == created["policy_id"]);
  const std::string id = std::to_string(created["policy_id"].get<uint64_t>());
  CHECK(JsonOf(Cli(daemon, {"--json", "policies", "show", id}))["policy_name"] == "tight");
  CHECK(JsonOf(Cli(daemon, {"--json", "policies", "delete", "tight"}))["deleted_policy_id"] ==
        created["policy_id"]);
  CHECK(ErrorOf(Cli(daemon, {"--json", "policies", "show", id}))["code"] == "NOT_FOUND");

  const json bad = ErrorOf(Cli(daemon, {"--json", "policies", "create", "x", "--semantic", "2"}));
  CHECK(bad["code"] == "INVALID_ARGUMENT");
  CHECK(bad["field"] == "policy.semantic_threshold");
  CHECK(Cli(daemon, {"policies", "update", "x"}).exit_code == 2);  // nothing to change
}

TEST_CASE("CLI checks the server address and explains an unreachable server", "[cli][errors]") {
  for (const std::string bad :
       {"127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1", "127.0.0.1:5x", "::1:50051"}) {
    const ProcessResult result = RunProcess({CliPath(), "--server", bad, "stats"});
    INFO(bad << ": " << result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("--server must be HOST:PORT with a port of 1-65535") !=
          std::string::npos);
  }
  const ProcessResult env =
      RunProcess({"/usr/bin/env", "HARTONOMOUS_SERVER=localhost:70000", CliPath(), "stats"});
  CHECK(env.exit_code == 2);
  CHECK(env.err.find("HARTONOMOUS_SERVER must be HOST:PORT") != std::string::npos);

  // A port nothing listens on: the daemon's, after it stopped.
  std::string address;
  {
    Daemon daemon;
    address = daemon.address();
  }
  const ProcessResult down = RunProcess({CliPath(), "--server", address, "stats"});
  CHECK(down.exit_code == 1);
  CHECK(down.err.find("cannot reach hartonomousd at " + address +
                      ": is it running? start it with ./deploy/run.sh") != std::string::npos);
  const ProcessResult down_json = RunProcess({CliPath(), "--json", "--server", address, "stats"});
  CHECK(down_json.exit_code == 1);
  CHECK(down_json.out.empty());
  const json error = json::parse(down_json.err)["error"];
  CHECK(error["code"] == "UNAVAILABLE");
  CHECK(error["message"].get<std::string>().find("cannot reach hartonomousd at " + address) == 0);
}

TEST_CASE("mistyped commands and options get a suggestion", "[cli][errors]") {
  const auto err_of = [](std::vector<std::string> args) {
    args.insert(args.begin(), CliPath());
    const ProcessResult result = RunProcess(args);
    CHECK(result.exit_code == 2);
    return result.err;
  };
  CHECK(err_of({"colections"}).find("did you mean 'collections'?") != std::string::npos);
  CHECK(err_of({"serch", "c"}).find("did you mean 'search'?") != std::string::npos);
  CHECK(err_of({"collections", "creat", "x"}).find("did you mean 'collections create'?") !=
        std::string::npos);
  CHECK(err_of({"ingest", "--colection", "c", "f"}).find("did you mean '--collection'?") !=
        std::string::npos);
  const std::string none = err_of({"frobnicate"});
  CHECK(none.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(none.find("did you mean") == std::string::npos);
  // Under --json a usage error is JSON on stderr too.
  const ProcessResult json_usage = RunProcess({CliPath(), "--json", "colections"});
  CHECK(json_usage.exit_code == 2);
  const json error = json::parse(json_usage.err)["error"];
  CHECK(error["code"] == "USAGE");
  CHECK(error["exit_code"] == 2);
  // And so is a command line with no command.
  const ProcessResult json_none = RunProcess({CliPath(), "--json"});
  CHECK(json_none.exit_code == 2);
  CHECK(json::parse(json_none.err)["error"]["code"] == "USAGE");
}

TEST_CASE("CLI errors under json carry code, field and message, metadata is an object",
          "[cli][errors]") {
  Daemon daemon;
  const ProcessResult missing = Cli(daemon, {"--json", "get", "999"});
  CHECK(missing.out.empty());
  const json error = ErrorOf(missing);
  CHECK(error["code"] == "NOT_FOUND");
  CHECK(error["field"] == "atom_id");
  CHECK(error["message"] == "atom_id: atom 999 does not exist");
  // Without --json: the same as text.
  const ProcessResult text = Cli(daemon, {"get", "999"});
  CHECK(text.err == "error: NOT_FOUND: atom_id: atom 999 does not exist\n");

  const json ingested =
      JsonOf(Cli(daemon, {"--json", "ingest", "--metadata", R"({"k": [1, 2]})", "-"}, "x"));
  const std::string id = std::to_string(ingested["results"][0]["atom_id"].get<uint64_t>());
  const json atom = JsonOf(Cli(daemon, {"--json", "get", id}));
  CHECK(atom["metadata"] == json{{"k", {1, 2}}});
  const json plain = JsonOf(Cli(daemon, {"--json", "ingest", "-"}, "no metadata"));
  const json bare = JsonOf(Cli(
      daemon, {"--json", "get", std::to_string(plain["results"][0]["atom_id"].get<uint64_t>())}));
  CHECK(bare["metadata"] == json::object());
}

}  // namespace hartonomous::testing
