// End-to-end tests of `hartonomous ingest-doc` over many files: content
// detection, keep-going with a summary and exit status, document identity by
// source (re-ingest, replacement, delete by source), interruption (SIGKILL
// and SIGINT of the CLI, then a re-run) and --jobs. The real CLI and a real
// hartonomousd on an ephemeral port with LMDB in a temporary directory.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cli_util.h"
#include "daemon_harness.h"
#include "server/engine/documents/decompose/image_codec.h"
#include "test_util.h"

namespace hartonomous::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& content) {
  const std::string path = dir + "/" + name;
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(content.data(), static_cast<std::streamsize>(content.size()));
  file.close();
  REQUIRE(file.good());
  return path;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs ingest-doc --json and parses its output whatever the exit status.
json IngestJson(const Daemon& daemon, std::vector<std::string> args, int* exit_code = nullptr) {
  args.insert(args.begin(), {"--json", "ingest-doc"});
  const ProcessResult r = Cli(daemon, args);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  if (exit_code != nullptr) *exit_code = r.exit_code;
  REQUIRE(!r.out.empty());
  return json::parse(r.out);
}

// The result for path in an ingest-doc --json output.
const json& ResultFor(const json& out, const std::string& path) {
  for (const json& r : out["results"]) {
    if (r["path"] == path) return r;
  }
  FAIL("no result for " << path);
  throw std::logic_error("unreachable");
}

v1::Atom Root(Daemon& daemon, uint64_t id) {
  v1::Atom atom;
  REQUIRE(daemon.client().GetAtom(id, false, &atom).ok());
  return atom;
}

std::string Reconstruct(Daemon& daemon, uint64_t id) {
  v1::DocumentDescription description;
  std::string content;
  REQUIRE(daemon.client().GetDocument(id, false, &description, &content).ok());
  return content;
}

// n files of distinct text, a few KiB each, named f000.txt ...
std::vector<std::string> ManyFiles(const std::string& dir, int n) {
  std::vector<std::string> paths;
  std::mt19937 rng(11);
  for (int i = 0; i < n; ++i) {
    std::string text;
    for (int s = 0; s < 40; ++s) {
      text += "File " + std::to_string(i) + " sentence " + std::to_string(s) + " says " +
              std::to_string(rng()) + ".";
      text += (s % 8 == 7) ? "\n\n" : " ";
    }
    char name[32];
    std::snprintf(name, sizeof(name), "f%03d.txt", i);
    paths.push_back(WriteFile(dir, name, text));
  }
  return paths;
}

// Every file under dir is stored exactly once: ingest-doc --json reports it
// unchanged or created with one reference, and it reconstructs byte for byte.
void RequireEachStoredOnce(Daemon& daemon, const std::string& dir,
                           const std::vector<std::string>& paths) {
  int code = -1;
  const json again = IngestJson(daemon, {"-r", dir}, &code);
  CHECK(code == 0);
  REQUIRE(again["results"].size() == paths.size());
  for (const std::string& path : paths) {
    const json& r = ResultFor(again, path);
    INFO(path << ": " << r.dump());
    CHECK((r["status"] == "unchanged" || r["status"] == "created"));
    const uint64_t id = r["document_id"];
    CHECK(Root(daemon, id).reference_count() == 1);
    CHECK(Reconstruct(daemon, id) == Slurp(path));
  }
  // A third run changes nothing.
  const json third = IngestJson(daemon, {"-r", dir}, &code);
  CHECK(code == 0);
  CHECK(third["unchanged"] == paths.size());
}

// Starts the CLI with stdout on a pipe; returns its pid and the pipe's read end.
pid_t StartCli(const Daemon& daemon, const std::vector<std::string>& args, int* stdout_fd) {
  int out[2];
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  std::vector<std::string> argv = {CliPath(), "--server", daemon.address()};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(out[1], 1);
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }
  close(out[1]);
  *stdout_fd = out[0];
  return pid;
}

// Reads fd until `lines` newlines have arrived (or EOF); returns them.
std::string ReadLines(int fd, int lines) {
  std::string text;
  char c;
  int seen = 0;
  while (seen < lines && read(fd, &c, 1) == 1) {
    text += c;
    if (c == '\n') ++seen;
  }
  return text;
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace

TEST_CASE("ingest-doc detects text, Latin-1 and PNG from the content, not the name",
          "[cli][bulk]") {
  Daemon daemon;
  TempDir dir;
  const std::string utf8 = WriteFile(dir.path(), "NOTICE-2.0", "Copyright \xc3\xa9t\xc3\xa9\n");
  const std::string latin1_bytes = "/* caf\xe9 na\xefve */\nint x;\n";
  const std::string latin1 = WriteFile(dir.path(), "legacy.h", latin1_bytes);
  engine::Raster raster{5, 3, 3, 1, std::string(5 * 3 * 3, '\x7f')};
  const std::string png = WriteFile(dir.path(), "photo.txt", *engine::EncodePng(raster));

  int code = -1;
  const json out = IngestJson(daemon, {utf8, latin1, png}, &code);
  CHECK(code == 0);
  CHECK(out["failed"] == 0);
  CHECK(ResultFor(out, utf8)["modality"] == "text");
  CHECK(ResultFor(out, utf8)["format"] == "text");
  CHECK(ResultFor(out, latin1)["modality"] == "binary");
  CHECK(ResultFor(out, latin1)["format"] == "binary");
  CHECK(ResultFor(out, png)["modality"] == "image");
  CHECK(ResultFor(out, png)["format"] == "png");
  // Stored as binary, the Latin-1 file comes back byte for byte.
  CHECK(Reconstruct(daemon, ResultFor(out, latin1)["document_id"]) == latin1_bytes);

  // Converted on request: stored as UTF-8 text (the source now holds the
  // converted document, which replaces the binary one).
  const json converted = IngestJson(daemon, {"--text-encoding", "latin1", latin1}, &code);
  CHECK(code == 0);
  const json& c = ResultFor(converted, latin1);
  CHECK(c["format"] == "text");
  CHECK(c["converted_from_latin1"] == true);
  CHECK(c["status"] == "replaced");
  CHECK(Reconstruct(daemon, c["document_id"]) == "/* caf\xc3\xa9 na\xc3\xafve */\nint x;\n");

  const ProcessResult bad = Cli(daemon, {"ingest-doc", "--text-encoding", "cp1252", utf8});
  CHECK(bad.exit_code == 2);
}

TEST_CASE("ingest-doc keeps going past bad files and reports each by name", "[cli][bulk]") {
  Daemon daemon(
      Daemon::Options{"", {"--max-content-bytes", "65536", "--max-batch-bytes", "100000"}});
  TempDir dir;
  const std::string a = WriteFile(dir.path(), "a.txt", "The first good file.\n");
  const std::string z = WriteFile(dir.path(), "z.txt", "The last good file.\n");
  const std::string big = WriteFile(dir.path(), "big.txt", std::string(300000, 'x'));
  const std::string fifo = dir.path() + "/pipe";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const std::string loop1 = dir.path() + "/loop1";
  const std::string loop2 = dir.path() + "/loop2";
  fs::create_symlink(loop2, loop1);
  fs::create_symlink(loop1, loop2);
  const std::string locked = WriteFile(dir.path(), "locked.txt", "secret\n");
  REQUIRE(chmod(locked.c_str(), 0) == 0);
  // Permissions do not stop root: then the file is simply readable.
  const bool can_lock = geteuid() != 0;
  if (!can_lock) WARN("running as root: the unreadable-file case cannot be made here");

  int code = -1;
  const json out = IngestJson(daemon, {"-r", dir.path()}, &code);
  CHECK(code == 1);
  CHECK(ResultFor(out, a)["status"] == "created");
  CHECK(ResultFor(out, z)["status"] == "created");
  CHECK(ResultFor(out, fifo)["status"] == "failed");
  CHECK(ResultFor(out, fifo)["error"].get<std::string>().find("FIFO") != std::string::npos);
  for (const std::string& loop : {loop1, loop2}) {
    CHECK(ResultFor(out, loop)["status"] == "failed");
    CHECK(ResultFor(out, loop)["error"].get<std::string>().find("symbolic link loop") !=
          std::string::npos);
  }
  CHECK(ResultFor(out, big)["status"] == "failed");
  CHECK(ResultFor(out, big)["error"].get<std::string>().find("RESOURCE_EXHAUSTED") !=
        std::string::npos);
  const uint64_t expected_failed = can_lock ? 5 : 4;
  CHECK(out["failed"] == expected_failed);
  CHECK(out["failures"].size() == expected_failed);
  CHECK(ResultFor(out, locked)["status"] == (can_lock ? "failed" : "created"));
  if (can_lock) {
    CHECK(ResultFor(out, locked)["error"].get<std::string>().find("Permission denied") !=
          std::string::npos);
  }
  CHECK(out["not_attempted"] == 0);
  CHECK(Reconstruct(daemon, ResultFor(out, z)["document_id"]) == Slurp(z));

  // Text output: one line per stored file on stdout, the summary and every
  // failure by name on stderr.
  const ProcessResult text = Cli(daemon, {"ingest-doc", "-r", dir.path()});
  CHECK(text.exit_code == 1);
  CHECK(text.err.find("ingest-doc: 7 file(s)") != std::string::npos);
  CHECK(text.err.find("failed (" + std::to_string(expected_failed) + "):") != std::string::npos);
  for (const std::string& path : {fifo, loop1, loop2, big}) {
    CHECK(text.err.find("  " + path + ": ") != std::string::npos);
  }
  CHECK(text.out.find("unchanged  " + a) != std::string::npos);
}

TEST_CASE("ingest-doc --fail-fast stops at the first failure", "[cli][bulk]") {
  Daemon daemon;
  TempDir dir;
  const std::string a = WriteFile(dir.path(), "a.txt", "first\n");
  const std::string fifo = dir.path() + "/b-pipe";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const std::string c = WriteFile(dir.path(), "c.txt", "third\n");
  int code = -1;
  const json out = IngestJson(daemon, {"-r", "--jobs", "1", "--fail-fast", dir.path()}, &code);
  CHECK(code == 1);
  CHECK(ResultFor(out, a)["status"] == "created");
  CHECK(ResultFor(out, fifo)["status"] == "failed");
  CHECK(ResultFor(out, c)["status"] == "not_attempted");
  CHECK(out["not_attempted"] == 1);
  CHECK(out["stop_reason"].get<std::string>().find("--fail-fast") != std::string::npos);
}

TEST_CASE("re-ingesting a source is a no-op, changed content replaces the document",
          "[cli][bulk][documents]") {
  Daemon daemon;
  TempDir dir;
  const std::string path =
      WriteFile(dir.path(), "notes.md", "Version one.\n\nIt has two paragraphs.\n");
  int code = -1;
  const json first = IngestJson(daemon, {path}, &code);
  REQUIRE(code == 0);
  const uint64_t id1 = ResultFor(first, path)["document_id"];
  CHECK(ResultFor(first, path)["status"] == "created");
  CHECK(Root(daemon, id1).reference_count() == 1);
  CHECK(Root(daemon, id1).source_uri() ==
        "file://" + fs::absolute(path).lexically_normal().string());

  const json same = IngestJson(daemon, {path}, &code);
  REQUIRE(code == 0);
  CHECK(ResultFor(same, path)["status"] == "unchanged");
  CHECK(ResultFor(same, path)["document_id"] == id1);
  CHECK(ResultFor(same, path)["atoms_created"] == 0);
  CHECK(Root(daemon, id1).reference_count() == 1);

  const std::string v2 = "Version two.\n\nIt has two paragraphs.\n";
  WriteFile(dir.path(), "notes.md", v2);
  const json changed = IngestJson(daemon, {path}, &code);
  REQUIRE(code == 0);
  const json& r = ResultFor(changed, path);
  CHECK(r["status"] == "replaced");
  CHECK(r["replaced_document_id"] == id1);
  const uint64_t id2 = r["document_id"];
  CHECK(id2 != id1);
  const v1::Atom old_root = Root(daemon, id1);
  CHECK(old_root.reference_count() == 0);
  CHECK_FALSE(old_root.is_active());
  CHECK(Root(daemon, id2).reference_count() == 1);
  CHECK(Reconstruct(daemon, id2) == v2);

  // Without a source every ingest adds a reference, as before.
  const json plain = IngestJson(daemon, {"--no-source", path}, &code);
  REQUIRE(code == 0);
  CHECK(ResultFor(plain, path)["status"] == "reused");
  CHECK(Root(daemon, id2).reference_count() == 2);

  // Delete by id: one reference goes; the source still holds the document
  // (1 source <= 1 reference). Delete by source: the last one.
  v1::DeleteDocumentResponse deleted;
  REQUIRE(daemon.client().DeleteDocument(id2, &deleted).ok());
  CHECK(deleted.root().reference_count() == 1);
  CHECK(deleted.sources_removed() == 0);
  {
    grpc::ClientContext context;
    v1::DeleteDocumentRequest request;
    request.set_source_uri("file://" + fs::absolute(path).lexically_normal().string());
    REQUIRE(daemon.client().atoms().DeleteDocument(&context, request, &deleted).ok());
    CHECK(deleted.root().atom_id() == id2);
    CHECK(deleted.sources_removed() == 1);
    CHECK_FALSE(deleted.root().is_active());
  }
  {
    grpc::ClientContext context;
    v1::DeleteDocumentRequest request;
    request.set_source_uri("file:///nowhere");
    const grpc::Status missing =
        daemon.client().atoms().DeleteDocument(&context, request, &deleted);
    CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(missing.error_message().find("source_uri") == 0);
  }
  {
    grpc::ClientContext context;
    v1::DeleteDocumentRequest request;
    const grpc::Status neither =
        daemon.client().atoms().DeleteDocument(&context, request, &deleted);
    CHECK(neither.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(neither.error_message().find("document_id") == 0);
  }
  // The source held nothing any more: ingesting it again adds the document anew.
  const json back = IngestJson(daemon, {path}, &code);
  REQUIRE(code == 0);
  CHECK(ResultFor(back, path)["status"] != "unchanged");
  CHECK(Root(daemon, ResultFor(back, path)["document_id"]).reference_count() == 1);
}

TEST_CASE("two sources of one document: deleting by id removes one source per reference",
          "[cli][bulk][documents]") {
  Daemon daemon;
  TempDir dir;
  const std::string a = WriteFile(dir.path(), "a.txt", "Shared content.\n");
  const std::string b = WriteFile(dir.path(), "b.txt", "Shared content.\n");
  int code = -1;
  const json out = IngestJson(daemon, {a, b}, &code);
  REQUIRE(code == 0);
  const uint64_t id = ResultFor(out, a)["document_id"];
  CHECK(ResultFor(out, b)["document_id"] == id);
  CHECK(Root(daemon, id).reference_count() == 2);
  v1::DeleteDocumentResponse deleted;
  REQUIRE(daemon.client().DeleteDocument(id, &deleted).ok());
  CHECK(deleted.root().reference_count() == 1);
  CHECK(deleted.sources_removed() == 1);  // 2 sources would exceed 1 reference
  REQUIRE(daemon.client().DeleteDocument(id, &deleted).ok());
  CHECK_FALSE(deleted.root().is_active());
  CHECK(deleted.sources_removed() == 1);
  // Neither source holds it now: both ingest anew, one reference each.
  const json again = IngestJson(daemon, {a, b}, &code);
  REQUIRE(code == 0);
  CHECK(ResultFor(again, a)["status"] != "unchanged");
  CHECK(ResultFor(again, b)["status"] != "unchanged");
  CHECK(Root(daemon, id).reference_count() == 2);
}

TEST_CASE("ingest-doc killed with SIGKILL mid-run, then re-run, stores each file once",
          "[cli][bulk][durability]") {
  Daemon daemon;
  TempDir dir;
  const std::vector<std::string> paths = ManyFiles(dir.path(), 150);
  int fd = -1;
  const pid_t pid = StartCli(daemon, {"ingest-doc", "-r", "--jobs", "4", dir.path()}, &fd);
  // 10 documents acknowledged (their lines printed), the rest still to come.
  const std::string printed = ReadLines(fd, 10);
  kill(pid, SIGKILL);
  CHECK(WaitFor(pid) == -SIGKILL);
  close(fd);
  CHECK(std::count(printed.begin(), printed.end(), '\n') == 10);
  RequireEachStoredOnce(daemon, dir.path(), paths);
}

TEST_CASE("ingest-doc interrupted with SIGINT cancels, summarizes and exits 130", "[cli][bulk]") {
  Daemon daemon;
  TempDir dir;
  const std::vector<std::string> paths = ManyFiles(dir.path(), 150);
  int fd = -1;
  const pid_t pid = StartCli(daemon, {"ingest-doc", "-r", "--jobs", "2", dir.path()}, &fd);
  const std::string printed = ReadLines(fd, 5);
  kill(pid, SIGINT);
  std::string rest;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) rest.append(buf, static_cast<size_t>(n));
  close(fd);
  CHECK(WaitFor(pid) == 130);
  CHECK(std::count(printed.begin(), printed.end(), '\n') == 5);
  RequireEachStoredOnce(daemon, dir.path(), paths);
}

TEST_CASE("ingest-doc --jobs 4 stores what --jobs 1 stores", "[cli][bulk]") {
  TempDir dir;
  std::vector<std::string> paths = ManyFiles(dir.path(), 40);
  // Duplicates across files, so that concurrent streams share atoms.
  paths.push_back(WriteFile(dir.path(), "dup-a.txt", Slurp(paths[0])));
  paths.push_back(WriteFile(dir.path(), "dup-b.txt", Slurp(paths[1]) + Slurp(paths[2])));
  std::map<std::string, std::pair<std::string, int64_t>> stored[2];
  v1::DedupStats stats[2];
  const char* jobs[2] = {"1", "4"};
  for (int k = 0; k < 2; ++k) {
    Daemon daemon;
    int code = -1;
    const json out = IngestJson(daemon, {"-r", "--jobs", jobs[k], dir.path()}, &code);
    REQUIRE(code == 0);
    REQUIRE(out["results"].size() == paths.size());
    for (const json& r : out["results"]) {
      stored[k][r["path"]] = {r["content_hash"], Root(daemon, r["document_id"]).reference_count()};
    }
    REQUIRE(daemon.client().GetDedupStats(10, &stats[k]).ok());
  }
  CHECK(stored[0] == stored[1]);
  CHECK(stored[0][paths[0]].second == 2);  // f000.txt and dup-a.txt
  CHECK(stats[0].total().unique_atoms() == stats[1].total().unique_atoms());
  CHECK(stats[0].total().total_references() == stats[1].total().total_references());
  CHECK(stats[0].total().unique_bytes() == stats[1].total().unique_bytes());
}

TEST_CASE("delete-doc --source drops the document a file path or URI holds", "[cli][bulk][documents]") {
  Daemon daemon;
  TempDir dir;
  const std::string a = WriteFile(dir.path(), "a.txt", "Kept by its path.\n\nSecond paragraph.\n");
  const std::string b = WriteFile(dir.path(), "b.txt", "Deleted by its URI.\n");
  const std::string c = WriteFile(dir.path(), "c.txt", "Never deleted.\n");
  int code = -1;
  const json out = IngestJson(daemon, {a, b, c}, &code);
  REQUIRE(code == 0);
  const uint64_t id_a = ResultFor(out, a)["document_id"];
  const uint64_t id_b = ResultFor(out, b)["document_id"];
  const uint64_t id_c = ResultFor(out, c)["document_id"];

  // By path, relative to the current directory as ingest-doc names it.
  ProcessResult r = Cli(daemon, {"--json", "delete-doc", "--source", a});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  json deleted = json::parse(r.out);
  CHECK(deleted["document_id"] == id_a);
  CHECK(deleted["sources_removed"] == 1);
  CHECK(deleted["is_active"] == false);
  CHECK_FALSE(Root(daemon, id_a).is_active());

  // By URI, as stored.
  const std::string uri_b = Root(daemon, id_b).source_uri();
  REQUIRE(uri_b.rfind("file://", 0) == 0);
  r = Cli(daemon, {"delete-doc", "--source", uri_b});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("document " + std::to_string(id_b) + ": refs=0") != std::string::npos);
  CHECK_FALSE(Root(daemon, id_b).is_active());

  // The source is gone with it: a second delete finds nothing.
  r = Cli(daemon, {"delete-doc", "--source", a});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("NOT_FOUND") != std::string::npos);
  CHECK(Root(daemon, id_c).is_active());

  // Exactly one of an id and --source.
  CHECK(Cli(daemon, {"delete-doc"}).exit_code == 2);
  CHECK(Cli(daemon, {"delete-doc", std::to_string(id_c), "--source", c}).exit_code == 2);
  CHECK(Root(daemon, id_c).is_active());
  // Re-ingesting the deleted file stores it again under its source.
  const json again = IngestJson(daemon, {a}, &code);
  REQUIRE(code == 0);
  CHECK(ResultFor(again, a)["status"] != "unchanged");
  CHECK(Reconstruct(daemon, ResultFor(again, a)["document_id"]) == Slurp(a));
}

}  // namespace hartonomous::testing
