// The serving path under pressure: calls beyond --max-concurrent-calls are
// refused at once with RESOURCE_EXHAUSTED naming the limit (unary methods,
// client and server streams and long maintenance calls alike) and the
// server serves again once calls end; a search whose client deadline passes while it runs stops,
// answers DEADLINE_EXCEEDED, is counted in hartonomous_search_stopped_total
// (reason "deadline", or "cancelled" when the client's end of the call
// arrives first), and the server keeps serving; with a stream window
// (--stream-window-bytes) smaller than a message, client streams still
// arrive whole.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "metrics_util.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

grpc::Status GetStats(Client& client, v1::ServerStats* stats) {
  grpc::ClientContext context;
  return client.admin().GetStats(&context, v1::GetStatsRequest(), stats);
}

}  // namespace

TEST_CASE("calls beyond --max-concurrent-calls get RESOURCE_EXHAUSTED naming the limit",
          "[limits][serving]") {
  Daemon daemon(
      Daemon::Options{{}, {"--max-concurrent-calls", "1", "--metrics-listen", "127.0.0.1:0"}});
  Client& client = daemon.client();
  auto atoms = v1::AtomService::NewStub(client.channel());
  // The metrics port is HTTP, not a call: reading it counts nothing.
  const std::string metrics = MetricsAddress(daemon);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto wait_for = [&](const std::string& series, double value) {
    while (SampleValue(HttpGet(metrics, "/metrics").body, series) != value) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
    }
  };
  // Nothing in progress (the start-up's health Watch has ended).
  wait_for("hartonomous_calls_in_progress", 0);

  // One idle client stream, never half-closed: with nothing else in
  // progress it is admitted, and it stays until cancelled (holding no
  // thread: it is a callback stream).
  grpc::ClientContext held_context;
  v1::IngestDocumentResponse held_response;
  auto held = atoms->IngestDocument(&held_context, &held_response);
  wait_for("hartonomous_calls_in_progress", 1);

  // Every other call is refused at once, without running.
  {
    v1::ServerStats stats;
    const grpc::Status status = GetStats(client, &stats);
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK(status.error_message() ==
          "server busy: 2 calls in progress, more than --max-concurrent-calls 1 allows; retry "
          "later");
  }
  // A callback unary method of another service: refused the same way.
  {
    grpc::ClientContext context;
    v1::GetAtomRequest request;
    request.set_atom_id(1);
    v1::Atom atom;
    const grpc::Status status = atoms->GetAtom(&context, request, &atom);
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK_THAT(status.error_message(), Catch::Contains("--max-concurrent-calls 1"));
  }
  // A second client stream: refused without being read.
  {
    grpc::ClientContext context;
    v1::IngestDocumentResponse response;
    auto second = atoms->IngestDocument(&context, &response);
    second->WritesDone();
    const grpc::Status status = second->Finish();
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK_THAT(status.error_message(), Catch::Contains("--max-concurrent-calls 1"));
  }
  {
    grpc::ClientContext context;
    v1::IngestAtomsResponse response;
    auto second = atoms->IngestAtoms(&context, &response);
    v1::IngestAtomsRequest message;
    *message.add_atoms() = TextAtom("refused");
    second->Write(message);  // may fail: the server can answer before it arrives
    second->WritesDone();
    const grpc::Status status = second->Finish();
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK_THAT(status.error_message(), Catch::Contains("--max-concurrent-calls 1"));
  }
  // A server stream and a long maintenance call: refused before they run.
  {
    grpc::ClientContext context;
    v1::GetDocumentRequest request;
    request.set_document_id(1);
    auto reader = atoms->GetDocument(&context, request);
    v1::GetDocumentResponse part;
    CHECK_FALSE(reader->Read(&part));
    const grpc::Status status = reader->Finish();
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK_THAT(status.error_message(), Catch::Contains("--max-concurrent-calls 1"));
  }
  {
    grpc::ClientContext context;
    v1::CheckConsistencyResponse report;
    const grpc::Status status =
        client.admin().CheckConsistency(&context, v1::CheckConsistencyRequest(), &report);
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK_THAT(status.error_message(), Catch::Contains("--max-concurrent-calls 1"));
  }
  // Health is never limited.
  {
    auto health = grpc::health::v1::Health::NewStub(client.channel());
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse answer;
    REQUIRE(health->Check(&context, grpc::health::v1::HealthCheckRequest(), &answer).ok());
    CHECK(answer.status() == grpc::health::v1::HealthCheckResponse::SERVING);
  }
  CHECK(SampleValue(HttpGet(metrics, "/metrics").body,
                    "hartonomous_rpc_requests_total{method=\"/hartonomous.v1.AtomService/GetAtom\","
                    "code=\"RESOURCE_EXHAUSTED\"}") == 1.0);

  // End the held stream; then calls are served again.
  held_context.TryCancel();
  CHECK(held->Finish().error_code() == grpc::StatusCode::CANCELLED);
  wait_for("hartonomous_calls_in_progress", 0);
  v1::ServerStats stats;
  REQUIRE(GetStats(client, &stats).ok());
  CHECK(stats.in_flight_calls() == 1);
  // The server counts a call out after its answer is sent: the client can
  // see GetStats's answer before the count drops, so wait for it again.
  wait_for("hartonomous_calls_in_progress", 0);
  v1::IngestAtomResponse ingested;
  CHECK(client.IngestAtom(TextAtom("served again"), &ingested).ok());
}

TEST_CASE("a search past its deadline stops, answers DEADLINE_EXCEEDED and is counted",
          "[search][serving][metrics]") {
  Daemon daemon(Daemon::Options{{}, {"--metrics-listen", "127.0.0.1:0"}});
  Client& client = daemon.client();
  const std::string metrics = MetricsAddress(daemon);
  const std::string stopped = "hartonomous_search_stopped_total{reason=\"deadline\"}";
  CHECK(SampleValue(HttpGet(metrics, "/metrics").body, stopped) == 0.0);

  // An exact (flat) collection of 40000 vectors of 512 floats: a batch of
  // 1000 exact searches reads 80 GB of vectors, far more than the deadline
  // below allows on any machine; the deadline itself leaves the request
  // ample time to reach its handler.
  constexpr int kVectors = 40000;
  constexpr int kDimension = 512;
  std::vector<v1::IngestAtomRequest> atoms;
  for (int i = 0; i < kVectors; ++i) atoms.push_back(TextAtom("vector " + std::to_string(i)));
  v1::IngestAtomsResponse ingested;
  REQUIRE(client.IngestAtoms(atoms, &ingested).ok());
  REQUIRE(ingested.results_size() == kVectors);
  v1::CollectionSpec spec;
  spec.set_embedding_type("test");
  spec.set_model_id(1);
  spec.set_dimension(kDimension);
  spec.set_metric(v1::METRIC_L2);
  spec.mutable_index()->set_kind("flat");
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<v1::EmbeddingInput> inputs;
  for (const auto& result : ingested.results()) {
    v1::EmbeddingInput input;
    input.set_atom_id(result.atom_id());
    for (int d = 0; d < kDimension; ++d) input.add_vector(normal(rng));
    inputs.push_back(std::move(input));
  }
  v1::AddEmbeddingsResponse added;
  REQUIRE(client.AddEmbeddings("big", &spec, inputs, &added).ok());
  REQUIRE(added.embeddings_added() == kVectors);

  v1::BatchSearchRequest batch;
  for (int q = 0; q < 1000; ++q) {
    v1::SearchRequest* search = batch.add_searches();
    search->set_collection("big");
    search->set_limit(10);
    for (int d = 0; d < kDimension; ++d) search->add_vector(normal(rng));
  }
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::BatchSearchResponse response;
    const grpc::Status status = client.search().BatchSearch(&context, batch, &response);
    CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  }

  // The server stopped the batch (it would count nothing had it run the
  // batch to its end): the counter rises. The client ends its call at its
  // deadline, and the server's own deadline (the same timeout, from the
  // request's arrival) passes a moment later: whichever the search sees
  // first names the reason.
  const std::string cancelled = "hartonomous_search_stopped_total{reason=\"cancelled\"}";
  auto stops = [&] {
    const std::string text = HttpGet(metrics, "/metrics").body;
    return SampleValue(text, stopped).value_or(0) + SampleValue(text, cancelled).value_or(0);
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (stops() < 1) REQUIRE(std::chrono::steady_clock::now() < deadline);
  CHECK(stops() == 1.0);

  // And it keeps serving: the same search, one query, with no deadline.
  v1::SearchResponse one;
  REQUIRE(client.Search(batch.searches(0), &one).ok());
  CHECK(one.results_size() == 10);
}

TEST_CASE("a stream window smaller than a message: client streams arrive whole and answer",
          "[serving][window]") {
  // 64 KiB windows, messages of 1 MiB: every message needs the window to
  // open many times while the server reads it.
  Daemon daemon(Daemon::Options{{}, {"--stream-window-bytes", "64K"}});
  Client& client = daemon.client();
  const std::string images =
      ReadFile("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
  REQUIRE(images.size() > (size_t{4} << 20));

  // A document of 4.4 MB (binary) in 1 MiB messages, read back byte for byte.
  v1::IngestDocumentResponse document;
  {
    grpc::ClientContext context;
    const grpc::Status status =
        client.IngestDocument(&context, DocumentHeader("binary"), images, &document, {}, 1 << 20);
    INFO(status.error_message());
    REQUIRE(status.ok());
  }
  grpc::Status read_status;
  const std::string content = ReadDocumentContent(client, document.document_id(), &read_status);
  INFO(read_status.error_message());
  REQUIRE(read_status.ok());
  CHECK(content.size() == images.size());
  CHECK(Sha256Hex(content) == Sha256Hex(images));

  // A model file of the same bytes (one U8 tensor), exported byte for byte.
  auto file = engine::models::WriteSafetensors({{"images.weight", "U8", {images.size()}}}, {images},
                                               {{"source", "fashion-mnist"}});
  REQUIRE(file.ok());
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name("window-images");
  v1::ImportModelResponse imported;
  {
    grpc::ClientContext context;
    const grpc::Status status = client.ImportModel(&context, start, *file, &imported, {}, 1 << 20);
    INFO(status.error_message());
    REQUIRE(status.ok());
  }
  CHECK(imported.bytes_received() == file->size());
  v1::ExportModelRequest request;
  request.set_model_name("window-images");
  v1::ExportModelHeader header;
  std::string exported;
  const grpc::Status exported_status =
      client.ExportModel(request, &header, [&](std::string_view chunk) {
        exported.append(chunk);
        return true;
      });
  INFO(exported_status.error_message());
  REQUIRE(exported_status.ok());
  CHECK(Sha256Hex(exported) == Sha256Hex(*file));
}
