// Client streams (IngestAtoms, IngestDocument, AddEmbeddings, and for the
// size limit LogInferences and ImportModel too) end only on the client's
// half-close: a stream that is cancelled, whose client dies, that
// carries a message that does not parse or that passes a limit fails as a
// whole and stores nothing.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "raw_rpc.h"
#include "test_util.h"

extern char** environ;

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

const char kIngestAtoms[] = "/hartonomous.v1.AtomService/IngestAtoms";
const char kIngestDocument[] = "/hartonomous.v1.AtomService/IngestDocument";
const char kAddEmbeddings[] = "/hartonomous.v1.SearchService/AddEmbeddings";
const char kLogInferences[] = "/hartonomous.v1.InferenceService/LogInferences";
const char kImportModel[] = "/hartonomous.v1.ModelService/ImportModel";

v1::IngestAtomsRequest Atoms(std::vector<std::string> contents) {
  v1::IngestAtomsRequest request;
  for (const auto& c : contents) *request.add_atoms() = TextAtom(c);
  return request;
}

v1::IngestDocumentRequest DocumentMessage(size_t index, size_t bytes) {
  v1::IngestDocumentRequest message;
  if (index == 0) {
    message.set_modality("blob");
    message.set_source_uri("test://stream");
  }
  // Bytes that differ from message to message, so no chunk deduplicates.
  message.set_content(BinaryContent(bytes, static_cast<uint32_t>(index)));
  return message;
}

std::vector<uint64_t> IngestSomeAtoms(Client& client, int n) {
  std::vector<v1::IngestAtomRequest> atoms;
  for (int i = 0; i < n; ++i) atoms.push_back(TextAtom("atom " + std::to_string(i)));
  v1::IngestAtomsResponse response;
  REQUIRE(client.IngestAtoms(atoms, &response).ok());
  std::vector<uint64_t> ids;
  for (const auto& r : response.results()) ids.push_back(r.atom_id());
  return ids;
}

v1::AddEmbeddingsRequest EmbeddingsMessage(const std::vector<uint64_t>& atoms, bool create) {
  v1::AddEmbeddingsRequest message;
  message.set_collection("streamed");
  if (create) {
    message.mutable_create()->set_embedding_type("text");
    message.mutable_create()->set_dimension(4);
  }
  for (size_t i = 0; i < atoms.size(); ++i) {
    auto* e = message.add_embeddings();
    e->set_atom_id(atoms[i]);
    for (int d = 0; d < 4; ++d) e->add_vector(static_cast<float>(i + d));
  }
  return message;
}

bool CollectionExists(Client& client, const std::string& name) {
  v1::Collection collection;
  return client.GetCollection(name, &collection).ok();
}

}  // namespace

TEST_CASE("a message that does not parse fails every client stream, nothing stored", "[stream]") {
  Daemon daemon;
  auto atoms = IngestSomeAtoms(daemon.client(), 4);
  const auto before = TableEntries(daemon.client());

  SECTION("IngestAtoms") {
    RawClientStream stream(daemon.client().channel(), kIngestAtoms);
    stream.Write(Atoms({"one", "two"}));
    stream.Write(kUnparsableBytes);
    stream.Write(Atoms({"three", "four"}));
    grpc::Status status = stream.Finish();
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(
        status.error_message(),
        Catch::Contains("stream message 2: does not parse as hartonomous.v1.IngestAtomsRequest"));
  }
  SECTION("IngestDocument") {
    RawClientStream stream(daemon.client().channel(), kIngestDocument);
    stream.Write(DocumentMessage(0, 4096));
    stream.Write(kUnparsableBytes);
    stream.Write(DocumentMessage(2, 4096));
    grpc::Status status = stream.Finish();
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(),
               Catch::Contains(
                   "stream message 2: does not parse as hartonomous.v1.IngestDocumentRequest"));
  }
  SECTION("AddEmbeddings") {
    RawClientStream stream(daemon.client().channel(), kAddEmbeddings);
    stream.Write(EmbeddingsMessage({atoms[0], atoms[1]}, /*create=*/true));
    stream.Write(kUnparsableBytes);
    stream.Write(EmbeddingsMessage({atoms[2], atoms[3]}, /*create=*/false));
    grpc::Status status = stream.Finish();
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(
        status.error_message(),
        Catch::Contains("stream message 2: does not parse as hartonomous.v1.AddEmbeddingsRequest"));
    CHECK_FALSE(CollectionExists(daemon.client(), "streamed"));
  }
  CHECK(TableEntries(daemon.client()) == before);
}

TEST_CASE("an empty client stream is refused", "[stream]") {
  Daemon daemon;
  for (const char* method : {kIngestAtoms, kIngestDocument, kAddEmbeddings}) {
    RawClientStream stream(daemon.client().channel(), method);
    grpc::Status status = stream.Finish();
    INFO(method);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), Catch::Contains("stream: carried no message"));
  }
}

TEST_CASE("a cancelled client stream stores nothing", "[stream]") {
  Daemon daemon;
  auto atoms = IngestSomeAtoms(daemon.client(), 8);
  const auto before = TableEntries(daemon.client());

  SECTION("IngestDocument") {
    RawClientStream stream(daemon.client().channel(), kIngestDocument);
    // 4 MiB in 1 MiB messages: more than the transport buffers unread, so
    // the server has read most of it when the writes return.
    for (size_t i = 0; i < 4; ++i) REQUIRE(stream.Write(DocumentMessage(i, size_t{1} << 20)));
    WaitForServerCalls(daemon.client(), 1);
    grpc::Status status = stream.Cancel();
    CHECK(status.error_code() == grpc::StatusCode::CANCELLED);
  }
  SECTION("AddEmbeddings, which would create the collection") {
    RawClientStream stream(daemon.client().channel(), kAddEmbeddings);
    REQUIRE(stream.Write(EmbeddingsMessage({atoms[0], atoms[1], atoms[2]}, /*create=*/true)));
    REQUIRE(stream.Write(EmbeddingsMessage({atoms[3], atoms[4]}, /*create=*/false)));
    WaitForServerCalls(daemon.client(), 1);
    grpc::Status status = stream.Cancel();
    CHECK(status.error_code() == grpc::StatusCode::CANCELLED);
  }
  SECTION("IngestAtoms") {
    RawClientStream stream(daemon.client().channel(), kIngestAtoms);
    REQUIRE(stream.Write(Atoms({"new one", "new two"})));
    WaitForServerCalls(daemon.client(), 1);
    grpc::Status status = stream.Cancel();
    CHECK(status.error_code() == grpc::StatusCode::CANCELLED);
  }
  WaitForServerCallsToEnd(daemon.client());
  CHECK_FALSE(CollectionExists(daemon.client(), "streamed"));
  CHECK(TableEntries(daemon.client()) == before);
}

TEST_CASE("a message over gRPC's message size limit fails the whole stream", "[stream]") {
  // Largest message: --max-content-bytes + 16 MiB.
  Daemon daemon(Daemon::Options{{}, {"--max-content-bytes", "1K"}});
  auto atoms = IngestSomeAtoms(daemon.client(), 4);
  const auto before = TableEntries(daemon.client());
  const size_t too_big = (size_t{17} << 20);

  SECTION("IngestDocument") {
    RawClientStream stream(daemon.client().channel(), kIngestDocument);
    REQUIRE(stream.Write(DocumentMessage(0, 4096)));
    stream.Write(DocumentMessage(1, too_big));
    CHECK(stream.Finish().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  SECTION("AddEmbeddings") {
    RawClientStream stream(daemon.client().channel(), kAddEmbeddings);
    REQUIRE(stream.Write(EmbeddingsMessage({atoms[0], atoms[1]}, /*create=*/true)));
    v1::AddEmbeddingsRequest big = EmbeddingsMessage({atoms[2]}, /*create=*/false);
    big.mutable_embeddings(0)->set_metadata(std::string(too_big, ' '));
    stream.Write(big);
    CHECK(stream.Finish().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  SECTION("IngestAtoms") {
    RawClientStream stream(daemon.client().channel(), kIngestAtoms);
    REQUIRE(stream.Write(Atoms({"before the big one"})));
    stream.Write(Atoms({std::string(too_big, 'x')}));
    CHECK(stream.Finish().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  SECTION("LogInferences") {
    RawClientStream stream(daemon.client().channel(), kLogInferences);
    v1::LogInferenceRequest log;
    log.set_task_type("classification");
    log.set_duration_ms(1.5);
    log.set_input_text("before the big one");
    REQUIRE(stream.Write(log));
    log.set_input_text(std::string(too_big, 'x'));
    stream.Write(log);
    CHECK(stream.Finish().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  SECTION("ImportModel") {
    RawClientStream stream(daemon.client().channel(), kImportModel);
    const std::string onnx =
        ReadFile("/usr/share/libonnx-testdata/data/pytorch-converted/test_Linear/model.onnx");
    v1::ImportModelRequest first;
    first.mutable_start()->mutable_model()->set_model_name("streamed");
    first.set_data(onnx.substr(0, 100));
    REQUIRE(stream.Write(first));
    v1::ImportModelRequest big;
    big.set_data(std::string(too_big, 'x'));
    stream.Write(big);
    CHECK(stream.Finish().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  WaitForServerCallsToEnd(daemon.client());
  CHECK_FALSE(CollectionExists(daemon.client(), "streamed"));
  CHECK(TableEntries(daemon.client()) == before);
}

TEST_CASE("every client stream is bounded by all the bytes it carries", "[stream]") {
  Daemon daemon(Daemon::Options{{}, {"--max-content-bytes", "1K", "--max-batch-bytes", "64K"}});
  auto atoms = IngestSomeAtoms(daemon.client(), 64);
  const auto before = TableEntries(daemon.client());

  grpc::Status status;
  SECTION("AddEmbeddings: vectors, not only a count") {
    RawClientStream stream(daemon.client().channel(), kAddEmbeddings);
    v1::AddEmbeddingsRequest message = EmbeddingsMessage(atoms, /*create=*/true);
    for (auto& e : *message.mutable_embeddings()) {
      e.clear_vector();
      e.mutable_vector()->Resize(256, 0.5f);  // 1 KiB per vector
    }
    message.mutable_create()->set_dimension(256);
    REQUIRE(message.ByteSizeLong() > (size_t{64} << 10));
    stream.Write(message);
    status = stream.Finish();
  }
  SECTION("IngestAtoms: text fields, not only content") {
    RawClientStream stream(daemon.client().channel(), kIngestAtoms);
    for (int m = 0; m < 16; ++m) {
      v1::IngestAtomsRequest message;
      for (int i = 0; i < 8; ++i) {
        auto atom = TextAtom(std::to_string(m * 8 + i));  // a few bytes of content
        atom.set_canonical_text(std::string(1024, 'c'));
        *message.add_atoms() = atom;
      }
      if (!stream.Write(message)) break;
    }
    status = stream.Finish();
  }
  SECTION("IngestDocument") {
    RawClientStream stream(daemon.client().channel(), kIngestDocument);
    for (size_t i = 0; i < 16; ++i) {
      if (!stream.Write(DocumentMessage(i, 8192))) break;
    }
    status = stream.Finish();
  }
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(), Catch::Contains("65536 bytes"));
  CHECK_THAT(status.error_message(), Catch::Contains("--max-batch-bytes"));
  CHECK_FALSE(CollectionExists(daemon.client(), "streamed"));
  CHECK(TableEntries(daemon.client()) == before);
}

// Run as a child process by the next test: opens a stream to the daemon at
// $HT_STREAM_CHILD_ADDRESS, writes two messages, says "sent" on stdout and
// waits to be killed, never half-closing.
TEST_CASE("client stream child process", "[.stream-child]") {
  const char* address = std::getenv("HT_STREAM_CHILD_ADDRESS");
  REQUIRE(address != nullptr);
  ClientOptions options;
  options.target = address;
  Client client(options);
  RawClientStream stream(client.channel(), kIngestDocument);
  REQUIRE(stream.Write(DocumentMessage(0, 65536)));
  REQUIRE(stream.Write(DocumentMessage(1, 65536)));
  REQUIRE(write(STDOUT_FILENO, "sent\n", 5) == 5);
  char c;
  while (read(STDIN_FILENO, &c, 1) > 0) {
  }
  _exit(0);  // no half-close, no cancel
}

TEST_CASE("a client process that dies mid-stream stores nothing", "[stream]") {
  Daemon daemon;
  const auto before = TableEntries(daemon.client());
  int to_child[2], from_child[2];
  REQUIRE(pipe2(to_child, O_CLOEXEC) == 0);
  REQUIRE(pipe2(from_child, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
  const std::string env_address = "HT_STREAM_CHILD_ADDRESS=" + daemon.address();
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  env.push_back(const_cast<char*>(env_address.c_str()));
  env.push_back(nullptr);
  std::string self = "/proc/self/exe";
  std::vector<std::string> args = {self, "client stream child process"};
  std::vector<char*> argv = {args[0].data(), args[1].data(), nullptr};
  pid_t child = -1;
  REQUIRE(posix_spawn(&child, self.c_str(), &actions, nullptr, argv.data(), env.data()) == 0);
  posix_spawn_file_actions_destroy(&actions);
  close(to_child[0]);
  close(from_child[1]);

  // The child has written its messages once it says so.
  std::string said;
  char c;
  while (said.find("sent") == std::string::npos && read(from_child[0], &c, 1) == 1) said += c;
  REQUIRE(said.find("sent") != std::string::npos);
  WaitForServerCalls(daemon.client(), 1);
  REQUIRE(kill(child, SIGKILL) == 0);
  int wstatus = 0;
  REQUIRE(waitpid(child, &wstatus, 0) == child);
  CHECK(WIFSIGNALED(wstatus));
  close(to_child[1]);
  close(from_child[0]);

  WaitForServerCallsToEnd(daemon.client());
  CHECK(TableEntries(daemon.client()) == before);
}
