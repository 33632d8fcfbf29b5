// End-to-end tests of the `hartonomous` command-line tool: the real binary,
// run as a child process against a real hartonomousd on an ephemeral port.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.h"
#include "daemon_harness.h"
#include "test_util.h"

namespace hartonomous::testing {
namespace {

using nlohmann::json;

// The CLI without a server address (usage errors, help).
ProcessResult CliAlone(std::vector<std::string> args) {
  std::vector<std::string> argv = {CliPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

std::string WriteFile(const TempDir& dir, const std::string& name, const std::string& content) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(content.data(), static_cast<std::streamsize>(content.size()));
  file.close();
  REQUIRE(file.good());
  return path;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string FileUriOf(const std::string& path) {
  return "file://" + std::filesystem::absolute(path).lexically_normal().string();
}

std::string BinaryContent() {
  std::string content;
  for (int round = 0; round < 300; ++round) {
    for (int byte = 0; byte < 256; ++byte) content += static_cast<char>(byte ^ round);
  }
  return content;  // 76800 bytes, zeros and invalid UTF-8 included
}

TEST_CASE("cli: ingest deduplicates identical files", "[cli]") {
  Daemon daemon;
  TempDir dir;
  const std::string text = "hello, atoms\n";
  const std::string a = WriteFile(dir, "a.txt", text);
  const std::string b = WriteFile(dir, "b.txt", text);
  const std::string c = WriteFile(dir, "c.txt", "something else\n");

  const ProcessResult ingest = Cli(daemon, {"ingest", a, b, c});
  INFO("stdout: " << ingest.out << "\nstderr: " << ingest.err);
  REQUIRE(ingest.exit_code == 0);
  // stderr is a pipe here: the progress bar must not be drawn into it.
  CHECK(ingest.err.find('\r') == std::string::npos);

  const std::vector<std::string> lines = Lines(ingest.out);
  REQUIRE(lines.size() == 4);
  const auto la = Words(lines[0]);
  const auto lb = Words(lines[1]);
  const auto lc = Words(lines[2]);
  REQUIRE(la.size() == 5);
  REQUIRE(lb.size() == 5);
  REQUIRE(lc.size() == 5);
  CHECK(la[0] == lb[0]);  // same atom id
  CHECK(la[1] == lb[1]);  // same content hash
  CHECK(la[1].size() == 64);
  CHECK(lc[0] != la[0]);
  CHECK(la[2] == "refs=1");
  CHECK(la[3] == "created");
  CHECK(lb[2] == "refs=2");
  CHECK(lb[3] == "reused");
  CHECK(lc[3] == "created");
  CHECK(la[4] == a);
  CHECK(lb[4] == b);
  CHECK(lc[4] == c);
  CHECK(lines[3].find("2 created, 1 reused") != std::string::npos);

  // The atom as stored: two references, text, the first file's URI.
  const json atom = JsonOf(Cli(daemon, {"get", la[0], "--json"}));
  CHECK(atom["atom_id"].get<uint64_t>() == std::stoull(la[0]));
  CHECK(atom["content_hash"] == la[1]);
  CHECK(atom["reference_count"] == 2);
  CHECK(atom["is_active"] == true);
  CHECK(atom["modality"] == "text");
  CHECK(atom["subtype"] == "txt");
  CHECK(atom["source_type"] == "file");
  CHECK(atom["source_uri"] == FileUriOf(a));
  CHECK(atom["canonical_text"] == text);
  CHECK(atom["content_size"] == text.size());
  CHECK_FALSE(atom.contains("content"));

  // The same atom by hash, the global flag after the command.
  const json by_hash = JsonOf(Cli(daemon, {"get", la[1], "--json"}));
  CHECK(by_hash["atom_id"] == atom["atom_id"]);

  // --json: one document, consistent with the text output.
  const json again = JsonOf(Cli(daemon, {"--json", "ingest", a, c}));
  REQUIRE(again["results"].size() == 2);
  CHECK(again["results"][0]["path"] == a);
  CHECK(again["results"][0]["atom_id"].get<uint64_t>() == std::stoull(la[0]));
  CHECK(again["results"][0]["content_hash"] == la[1]);
  CHECK(again["results"][0]["reference_count"] == 3);
  CHECK(again["results"][0]["created"] == false);
  CHECK(again["results"][1]["atom_id"].get<uint64_t>() == std::stoull(lc[0]));
  CHECK(again["results"][1]["reference_count"] == 2);
  CHECK(again["atoms_created"] == 0);
  CHECK(again["atoms_reused"] == 2);
  CHECK(again["bytes_received"] == text.size() + std::string("something else\n").size());
  CHECK(again["bytes_stored"] == 0);
}

TEST_CASE("cli: get -o writes the content byte for byte", "[cli]") {
  Daemon daemon;
  TempDir dir;
  const std::string content = BinaryContent();
  const std::string blob = WriteFile(dir, "blob.bin", content);

  const json ingest = JsonOf(Cli(daemon, {"ingest", "--json", blob}));
  REQUIRE(ingest["results"].size() == 1);
  const std::string hash = ingest["results"][0]["content_hash"];
  const std::string id = std::to_string(ingest["results"][0]["atom_id"].get<uint64_t>());
  CHECK(ingest["bytes_stored"] == content.size());

  const std::string out = dir.path() + "/out.bin";
  const ProcessResult get = Cli(daemon, {"get", hash, "-o", out});
  INFO("stderr: " << get.err);
  REQUIRE(get.exit_code == 0);
  CHECK(ReadFile(out) == content);

  const ProcessResult to_stdout = Cli(daemon, {"get", id, "-o", "-"});
  REQUIRE(to_stdout.exit_code == 0);
  CHECK(to_stdout.out == content);

  const json atom = JsonOf(Cli(daemon, {"get", id, "--json"}));
  CHECK(atom["modality"] == "binary");
  CHECK(atom["subtype"] == "bin");
  CHECK(atom["canonical_text"] == "");
  CHECK(atom["content_size"] == content.size());
}

TEST_CASE("cli: get --content --json carries base64 content", "[cli]") {
  Daemon daemon;
  const json ingest =
      JsonOf(Cli(daemon, {"ingest", "--json", "-"}, std::string("\x00\x01\xfe\xff", 4)));
  const std::string id = std::to_string(ingest["results"][0]["atom_id"].get<uint64_t>());
  const json atom = JsonOf(Cli(daemon, {"get", id, "--content", "--json"}));
  CHECK(atom["content"] == "AAH+/w==");
  CHECK(atom["modality"] == "binary");  // stdin, not UTF-8
}

TEST_CASE("cli: list and stats", "[cli]") {
  Daemon daemon;
  TempDir dir;
  const std::string a = WriteFile(dir, "a.txt", "same words\n");
  const std::string b = WriteFile(dir, "b.md", "same words\n");
  const std::string c = WriteFile(dir, "c.txt", "other words\n");
  // Classified by its signature, not its name.
  const std::string png = WriteFile(dir, "pixel.png", "\x89PNG\r\n\x1a\n" + BinaryContent());
  REQUIRE(Cli(daemon, {"ingest", a, b, c, png}).exit_code == 0);

  CHECK(JsonOf(Cli(daemon, {"list", "--json"})).size() == 3);
  CHECK(JsonOf(Cli(daemon, {"list", "--json", "--page-size", "1"})).size() == 3);
  CHECK(JsonOf(Cli(daemon, {"list", "--json", "--limit", "2"})).size() == 2);
  const json text_atoms = JsonOf(Cli(daemon, {"list", "--modality", "text", "--json"}));
  REQUIRE(text_atoms.size() == 2);
  CHECK(text_atoms[0]["modality"] == "text");
  CHECK(text_atoms[0]["atom_id"].get<uint64_t>() < text_atoms[1]["atom_id"].get<uint64_t>());
  const json images = JsonOf(Cli(daemon, {"list", "--modality", "image", "--json"}));
  REQUIRE(images.size() == 1);
  CHECK(images[0]["subtype"] == "png");

  const ProcessResult table = Cli(daemon, {"list"});
  REQUIRE(table.exit_code == 0);
  const std::vector<std::string> rows = Lines(table.out);
  REQUIRE(rows.size() == 5);  // header, three atoms, count
  CHECK(rows.front().find("MODALITY") != std::string::npos);
  CHECK(rows.back() == "3 atoms");

  const json stats = JsonOf(Cli(daemon, {"stats", "--json", "--top", "2"}));
  CHECK(stats["top_atoms"].size() == 2);
  CHECK(stats["top_atoms"][0]["reference_count"] == 2);
  const json* text = nullptr;
  for (const json& modality : stats["modalities"]) {
    if (modality["modality"] == "text") text = &modality;
  }
  REQUIRE(text != nullptr);
  CHECK((*text)["unique_atoms"] == 2);
  CHECK((*text)["total_references"] == 3);
  CHECK((*text)["duplicates_avoided"] == 1);
  CHECK((*text)["bytes_saved"] == std::string("same words\n").size());
  CHECK(stats["total"]["duplicates_avoided"] == 1);

  const ProcessResult human = Cli(daemon, {"stats"});
  REQUIRE(human.exit_code == 0);
  CHECK(human.out.find("DUPS_AVOIDED") != std::string::npos);
}

TEST_CASE("cli: stdin ingest with -", "[cli]") {
  Daemon daemon;
  TempDir dir;
  const std::string data = "typed into a pipe\n";
  const json ingest = JsonOf(Cli(daemon, {"ingest", "-", "--json"}, data));
  REQUIRE(ingest["results"].size() == 1);
  CHECK(ingest["results"][0]["path"] == "-");
  CHECK(ingest["results"][0]["created"] == true);
  const uint64_t id = ingest["results"][0]["atom_id"];

  const json atom = JsonOf(Cli(daemon, {"get", std::to_string(id), "--json"}));
  CHECK(atom["source_uri"] == "stdin");
  CHECK(atom["modality"] == "text");  // no extension, valid UTF-8
  CHECK(atom["canonical_text"] == data);

  // The same bytes from a file (with a space in its name) are the same atom.
  const std::string file = WriteFile(dir, "piped copy", data);
  const json from_file = JsonOf(Cli(daemon, {"ingest", file, "--json"}));
  CHECK(from_file["results"][0]["atom_id"] == id);
  CHECK(from_file["results"][0]["reference_count"] == 2);
}

TEST_CASE("cli: ingest options and transactions", "[cli]") {
  Daemon daemon;
  TempDir dir;
  const std::string a = WriteFile(dir, "x 1.dat", "first\n");
  const std::string b = WriteFile(dir, "x2.dat", "second\n");
  const std::string c = WriteFile(dir, "x3.dat", "third\n");

  const json before = JsonOf(Cli(daemon, {"server-stats", "--json"}));
  CHECK(before["state"] == "serving");
  CHECK(before["state_reason"] == "");
  CHECK(before["vectors_replayed_at_start"] == 0);
  // --max-stream-bytes 1: every file on its own stream, one transaction each.
  const json ingest = JsonOf(Cli(
      daemon, {"ingest", "--json", "--max-stream-bytes", "1", "--modality", "text", "--subtype",
               "note", "--source-type", "upload", "--metadata", R"({"team": "atoms"})", a, b, c}));
  REQUIRE(ingest["results"].size() == 3);
  CHECK(ingest["transactions"] == 3);
  CHECK(ingest["atoms_created"] == 3);
  const json after = JsonOf(Cli(daemon, {"server-stats", "--json"}));
  CHECK(after["commits"].get<uint64_t>() >= before["commits"].get<uint64_t>() + 3);

  const std::string id = std::to_string(ingest["results"][0]["atom_id"].get<uint64_t>());
  const json atom = JsonOf(Cli(daemon, {"get", id, "--json"}));
  CHECK(atom["modality"] == "text");
  CHECK(atom["subtype"] == "note");
  CHECK(atom["source_type"] == "upload");
  CHECK(atom["metadata"] == json{{"team", "atoms"}});
  CHECK(atom["canonical_text"] == "first\n");
  const std::string uri = atom["source_uri"];
  CHECK(uri.rfind("file:///", 0) == 0);
  CHECK(uri.size() > 10);
  CHECK(uri.substr(uri.size() - 10) == "/x%201.dat");

  // A directory needs -r.
  const ProcessResult no_r = Cli(daemon, {"ingest", dir.path()});
  CHECK(no_r.exit_code == 1);
  CHECK(no_r.err.find("directory") != std::string::npos);
  const json recursive = JsonOf(Cli(daemon, {"ingest", "-r", "--json", dir.path()}));
  CHECK(recursive["results"].size() == 3);
  CHECK(recursive["atoms_reused"] == 3);
}

TEST_CASE("cli: a failed stream commits nothing, earlier streams stay", "[cli]") {
  Daemon::Options options;
  options.extra_args = {"--max-content-bytes", "1024"};
  Daemon daemon(options);
  TempDir dir;
  const std::string small = WriteFile(dir, "small.txt", "fits\n");
  const std::string big = WriteFile(dir, "big.txt", std::string(2000, 'x'));
  const std::string after = WriteFile(dir, "after.txt", "never sent\n");

  // Three streams: small commits, big is rejected, after is never sent.
  const ProcessResult ingest =
      Cli(daemon, {"ingest", "--max-stream-bytes", "1", small, big, after});
  INFO("stdout: " << ingest.out << "\nstderr: " << ingest.err);
  CHECK(ingest.exit_code == 1);
  CHECK(ingest.err.find("error: ") != std::string::npos);
  CHECK(ingest.err.find("'" + big + "'") != std::string::npos);
  const std::vector<std::string> lines = Lines(ingest.out);
  REQUIRE(lines.size() == 2);  // the committed file and the summary
  CHECK(Words(lines[0]).back() == small);

  const json listed = JsonOf(Cli(daemon, {"list", "--json"}));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["canonical_text"] == "fits\n");

  // In one stream, the rejected file takes the whole transaction with it.
  const ProcessResult together = Cli(daemon, {"ingest", after, big});
  CHECK(together.exit_code == 1);
  CHECK(together.out.empty());
  CHECK(JsonOf(Cli(daemon, {"list", "--json"})).size() == 1);
}

TEST_CASE("cli: release, delete and purge", "[cli]") {
  Daemon daemon;
  TempDir dir;
  const std::string a = WriteFile(dir, "a.txt", "short-lived\n");
  REQUIRE(Cli(daemon, {"ingest", a, a}).exit_code == 0);
  const json listed = JsonOf(Cli(daemon, {"list", "--json"}));
  REQUIRE(listed.size() == 1);
  const std::string id = std::to_string(listed[0]["atom_id"].get<uint64_t>());
  CHECK(listed[0]["reference_count"] == 2);

  const json released = JsonOf(Cli(daemon, {"release", id, "--json"}));
  CHECK(released["reference_count"] == 1);
  CHECK(released["is_active"] == true);
  const json deleted = JsonOf(Cli(daemon, {"delete", id, "--json"}));
  CHECK(deleted["reference_count"] == 0);
  CHECK(deleted["is_active"] == false);
  CHECK(JsonOf(Cli(daemon, {"list", "--inactive", "--json"})).size() == 1);
  CHECK(JsonOf(Cli(daemon, {"list", "--active", "--json"})).empty());

  const json purged = JsonOf(Cli(daemon, {"purge", "--json"}));
  CHECK(purged["atoms_purged"] == 1);
  const ProcessResult gone = Cli(daemon, {"get", id});
  CHECK(gone.exit_code == 1);
  CHECK(gone.err.find("NOT_FOUND") != std::string::npos);
}

TEST_CASE("cli: bad usage exits 2 before contacting a server", "[cli]") {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"no-such-command"},
      {"list", "--no-such-flag"},
      {"--no-such-flag", "list"},
      {"get"},
      {"get", "1", "2"},
      {"get", "not-a-number"},
      {"list", "--limit", "many"},
      {"list", "--active", "--inactive"},
      {"--timeout", "0", "list"},
      {"ingest"},
      {"ingest", "--metadata", "[1, 2]", "-"},
      {"release"},
  };
  for (const auto& args : cases) {
    std::vector<std::string> argv = args;
    // An unreachable server: a usage error must be found before any RPC.
    argv.insert(argv.begin(), {"--server", "127.0.0.1:1"});
    const ProcessResult result = CliAlone(argv);
    INFO("args: " << json(args).dump() << "\nstderr: " << result.err);
    CHECK(result.exit_code == 2);
    CHECK_FALSE(result.err.empty());
    CHECK(result.out.empty());
  }

  const ProcessResult help = CliAlone({"help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.rfind("usage: hartonomous", 0) == 0);
  const ProcessResult command_help = CliAlone({"ingest", "--help"});
  CHECK(command_help.exit_code == 0);
  CHECK(command_help.out.find("transaction") != std::string::npos);
  const ProcessResult version = CliAlone({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("hartonomous ", 0) == 0);
}

TEST_CASE("cli: RPC errors exit 1 with the status code name", "[cli]") {
  Daemon daemon;
  const ProcessResult by_id = Cli(daemon, {"get", "987654321"});
  CHECK(by_id.exit_code == 1);
  CHECK(by_id.err.rfind("error: NOT_FOUND: ", 0) == 0);
  CHECK(by_id.out.empty());

  const ProcessResult by_hash = Cli(daemon, {"get", std::string(64, '0')});
  CHECK(by_hash.exit_code == 1);
  CHECK(by_hash.err.rfind("error: NOT_FOUND: ", 0) == 0);

  const ProcessResult release = Cli(daemon, {"release", "987654321"});
  CHECK(release.exit_code == 1);
  CHECK(release.err.find("NOT_FOUND") != std::string::npos);

  // Nothing listens on port 1.
  const ProcessResult unreachable =
      CliAlone({"--server", "127.0.0.1:1", "--timeout", "5", "stats"});
  CHECK(unreachable.exit_code == 1);
  CHECK(unreachable.err.rfind("error: cannot reach hartonomousd at 127.0.0.1:1: is it running?",
                              0) == 0);

  // HARTONOMOUS_SERVER names the server when --server is absent.
  const ProcessResult from_env = RunProcess(
      {"/usr/bin/env", "HARTONOMOUS_SERVER=" + daemon.address(), CliPath(), "list", "--json"});
  INFO("stderr: " << from_env.err);
  CHECK(from_env.exit_code == 0);
  CHECK(from_env.out == "[]\n");
}

TEST_CASE("cli: relations traverse walks the graph breadth first by type and depth",
          "[cli][relations]") {
  Daemon daemon;
  // a -cites-> b -cites-> c, a -mentions-> d
  std::vector<uint64_t> ids;
  for (const char* text : {"atom a", "atom b", "atom c", "atom d"}) {
    v1::IngestAtomResponse r;
    REQUIRE(daemon.client().IngestAtom(TextAtom(text), &r).ok());
    ids.push_back(r.atom_id());
  }
  v1::AddRelationsRequest add;
  auto edge = [&](uint64_t from, uint64_t to, const char* type) {
    v1::Relation* e = add.add_relations();
    e->set_source_atom_id(from);
    e->set_target_atom_id(to);
    e->set_relation_type(type);
  };
  edge(ids[0], ids[1], "cites");
  edge(ids[1], ids[2], "cites");
  edge(ids[0], ids[3], "mentions");
  v1::AddRelationsResponse added;
  REQUIRE(daemon.client().AddRelations(add, &added).ok());

  const std::string a = std::to_string(ids[0]);
  const nlohmann::json all = JsonOf(Cli(daemon, {"--json", "relations", "traverse", a}));
  REQUIRE(all["nodes"].size() == 4);
  CHECK(all["nodes"][0]["atom_id"] == ids[0]);
  CHECK(all["nodes"][0]["depth"] == 0);
  CHECK(all["nodes"][3]["atom_id"] == ids[2]);  // breadth first: c last, at depth 2
  CHECK(all["nodes"][3]["depth"] == 2);
  CHECK(all["nodes"][3]["via"]["source_atom_id"] == ids[1]);
  CHECK(all["truncated"] == false);

  const nlohmann::json cites = JsonOf(
      Cli(daemon, {"--json", "relations", "traverse", a, "--type", "cites", "--depth", "1"}));
  REQUIRE(cites["nodes"].size() == 2);
  CHECK(cites["nodes"][1]["atom_id"] == ids[1]);

  const nlohmann::json up =
      JsonOf(Cli(daemon, {"--json", "relations", "traverse", std::to_string(ids[2]), "--parents"}));
  REQUIRE(up["nodes"].size() == 3);  // c <- b <- a
  CHECK(up["nodes"][2]["atom_id"] == ids[0]);

  // relations add: a new edge d -cites-> c, then the same edge re-weighted.
  const std::string c = std::to_string(ids[2]), d = std::to_string(ids[3]);
  const nlohmann::json made = JsonOf(Cli(daemon, {"--json", "relations", "add", d, c, "--type",
                                                  "cites", "--metadata", R"({"page":3})"}));
  CHECK(made["created"] == true);
  CHECK(made["metadata"]["page"] == 3);
  const std::string ordinal = std::to_string(made["ordinal"].get<uint64_t>());
  const nlohmann::json again =
      JsonOf(Cli(daemon, {"--json", "relations", "add", d, c, "--type", "cites", "--ordinal",
                          ordinal, "--weight", "0.5"}));
  CHECK(again["created"] == false);
  CHECK(again["weight"] == 0.5);
  const nlohmann::json from_d =
      JsonOf(Cli(daemon, {"--json", "relations", "traverse", d, "--type", "cites"}));
  REQUIRE(from_d["nodes"].size() == 2);
  CHECK(from_d["nodes"][1]["atom_id"] == ids[2]);
  const ProcessResult no_type = Cli(daemon, {"relations", "add", d, c});
  CHECK(no_type.exit_code == 2);
  const ProcessResult missing = Cli(daemon, {"relations", "add", d, "999999", "--type", "cites"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("target_atom_id") != std::string::npos);

  const ProcessResult text = Cli(daemon, {"relations", "traverse", a, "--max-nodes", "2"});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("stopped at --max-nodes") != std::string::npos);
}

}  // namespace
}  // namespace hartonomous::testing
