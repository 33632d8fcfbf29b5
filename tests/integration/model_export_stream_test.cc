// ExportModel as a callback server stream against a real daemon: exports
// whose clients do not read hold no thread (three times --max-threads of
// them open, a document served meanwhile) and each then arrives byte for byte; a client that
// cancels mid-export ends only its own call; refusals (the call limit) come with their message, as
// for every method.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "metrics_util.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

// A safetensors file of one U8 tensor holding Fashion-MNIST's compressed
// test images (4.4 MB), far more than a stream's flow-control window.
std::string FashionSafetensors() {
  const std::string images =
      ReadFile("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
  REQUIRE(images.size() > (size_t{4} << 20));
  auto file = engine::models::WriteSafetensors({{"images.weight", "U8", {images.size()}}}, {images},
                                               {{"source", "fashion-mnist"}});
  REQUIRE(file.ok());
  return *file;
}

void ImportAs(Client& client, const std::string& name, const std::string& file) {
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name(name);
  v1::ImportModelResponse response;
  grpc::ClientContext context;
  const grpc::Status status = client.ImportModel(&context, start, file, &response, {}, 1 << 20);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

struct OpenExport {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::ExportModelResponse>> reader;
  std::string bytes;
};

// Starts an export of `name` and reads its first message only.
std::unique_ptr<OpenExport> StartExport(v1::ModelService::Stub& stub, const std::string& name) {
  auto e = std::make_unique<OpenExport>();
  e->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  v1::ExportModelRequest request;
  request.set_model_name(name);
  e->reader = stub.ExportModel(&e->context, request);
  v1::ExportModelResponse first;
  REQUIRE(e->reader->Read(&first));
  CHECK(first.has_header());
  e->bytes += first.data();
  return e;
}

}  // namespace

TEST_CASE("ExportModel streams left unread hold no thread and then arrive byte for byte",
          "[model][export][limits]") {
  constexpr size_t kMaxThreads = 4;
  constexpr size_t kExports = 3 * kMaxThreads;
  Daemon::Options options;
  options.extra_args = {"--max-threads", std::to_string(kMaxThreads)};
  Daemon daemon(options);
  Client& client = daemon.client();
  const std::string file = FashionSafetensors();
  ImportAs(client, "fashion-images", file);
  v1::IngestDocumentResponse document;
  REQUIRE(client
              .IngestDocument(DocumentHeader("text"),
                              ReadFile("/usr/share/common-licenses/Apache-2.0"), &document)
              .ok());

  auto stub = v1::ModelService::NewStub(client.channel());
  std::vector<std::unique_ptr<OpenExport>> exports;
  for (size_t i = 0; i < kExports; ++i) exports.push_back(StartExport(*stub, "fashion-images"));

  // Three times --max-threads exports open, unread: a document is still
  // served.
  {
    grpc::Status status;
    const std::string content = ReadDocumentContent(client, document.document_id(), &status);
    INFO(status.error_message());
    CHECK(status.ok());
    CHECK(content == ReadFile("/usr/share/common-licenses/Apache-2.0"));
  }

  // Each export then arrives whole, in order.
  for (auto& e : exports) {
    v1::ExportModelResponse message;
    while (e->reader->Read(&message)) {
      CHECK_FALSE(message.has_header());
      e->bytes += message.data();
    }
    const grpc::Status status = e->reader->Finish();
    INFO(status.error_message());
    CHECK(status.ok());
    CHECK(e->bytes.size() == file.size());
    CHECK(Sha256Hex(e->bytes) == Sha256Hex(file));
  }
}

TEST_CASE("an export cancelled mid-stream ends alone and the server exports again",
          "[model][export]") {
  Daemon daemon;
  Client& client = daemon.client();
  const std::string file = FashionSafetensors();
  ImportAs(client, "fashion-images", file);
  auto stub = v1::ModelService::NewStub(client.channel());
  {
    auto cut = StartExport(*stub, "fashion-images");
    cut->context.TryCancel();
    v1::ExportModelResponse message;
    while (cut->reader->Read(&message)) {
    }
    CHECK(cut->reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
  }
  v1::ExportModelRequest request;
  request.set_model_name("fashion-images");
  v1::ExportModelHeader header;
  std::string bytes;
  const grpc::Status status = client.ExportModel(request, &header, [&](std::string_view b) {
    bytes.append(b);
    return true;
  });
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(header.file_size() == file.size());
  CHECK(Sha256Hex(bytes) == Sha256Hex(file));
}

TEST_CASE("an export beyond --max-concurrent-calls is refused with the limit named",
          "[model][export][limits]") {
  Daemon::Options options;
  options.extra_args = {"--max-concurrent-calls", "1", "--metrics-listen", "127.0.0.1:0"};
  Daemon daemon(options);
  Client& client = daemon.client();
  const std::string file = FashionSafetensors();
  ImportAs(client, "fashion-images", file);
  auto stub = v1::ModelService::NewStub(client.channel());
  // The import is counted out just after its answer reaches the client.
  const std::string metrics = MetricsAddress(daemon);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto wait_for = [&](double calls) {
    while (SampleValue(HttpGet(metrics, "/metrics").body, "hartonomous_calls_in_progress") !=
           calls) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
    }
  };
  wait_for(0);
  // One idle client stream, never half-closed: the only call the limit
  // lets in.
  auto atoms = v1::AtomService::NewStub(client.channel());
  grpc::ClientContext held_context;
  v1::IngestDocumentResponse held_response;
  auto held = atoms->IngestDocument(&held_context, &held_response);
  wait_for(1);
  {
    grpc::ClientContext context;
    v1::ExportModelRequest request;
    request.set_model_name("fashion-images");
    auto refused = stub->ExportModel(&context, request);
    v1::ExportModelResponse message;
    CHECK_FALSE(refused->Read(&message));
    const grpc::Status status = refused->Finish();
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK_THAT(status.error_message(), Catch::Contains("--max-concurrent-calls 1"));
  }
  held_context.TryCancel();
  CHECK(held->Finish().error_code() == grpc::StatusCode::CANCELLED);
}
