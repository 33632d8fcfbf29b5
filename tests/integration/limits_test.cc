// Every named limit of the API (docs/api.md, "Limits"), against the real
// hartonomousd: a request just below the limit and one at it succeed; one
// just above it fails with the documented code and a message naming the
// field and the limit's value, and stores nothing. Limits set by a flag are
// lowered by that flag so the test stays small; fixed limits are met at
// their value.
//
// The exact byte boundary of --max-batch-bytes (which counts a message's
// wire size or its parsed size, whichever is larger) is proved by
// tests/unit/rpc/common/stream_messages_test.cc; here a stream within the
// limit and one over it.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "raw_rpc.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

// Calls request(limit - 1) and request(limit), which must succeed, and
// request(limit + 1), which must fail with `code` and a message containing
// `message`.
void RequireBoundary(const std::string& name, int64_t limit,
                     const std::function<grpc::Status(int64_t)>& request, grpc::StatusCode code,
                     const std::string& message) {
  INFO(name << " at " << limit);
  const grpc::Status below = request(limit - 1);
  INFO("below: " << below.error_message());
  CHECK(below.ok());
  const grpc::Status at = request(limit);
  INFO("at: " << at.error_message());
  CHECK(at.ok());
  const grpc::Status above = request(limit + 1);
  INFO("above: " << above.error_message());
  CHECK(CodeName(above.error_code()) == CodeName(code));
  CHECK_THAT(above.error_message(), Catch::Contains(message));
}

// {"k":"xxx..."} exactly `bytes` long (bytes >= 8).
std::string MetadataOfBytes(int64_t bytes) {
  return R"({"k":")" + std::string(static_cast<size_t>(bytes) - 8, 'x') + R"("})";
}

// {"a":{"a":...{}...}}: `depth` nested objects.
std::string MetadataOfDepth(int64_t depth) {
  std::string out;
  for (int64_t i = 1; i < depth; ++i) out += R"({"a":)";
  out += "{}";
  out += std::string(static_cast<size_t>(depth) - 1, '}');
  return out;
}

// A serialized message of exactly `bytes` bytes that any request type
// parses: one unknown length-delimited field (number 1000), which proto3
// keeps and ignores. REQUIRES: 2 MiB < bytes < 256 MiB (a 4-byte length).
std::string UnknownFieldMessage(int64_t bytes) {
  const uint64_t payload = static_cast<uint64_t>(bytes) - 6;  // tag 2 bytes, length 4 bytes
  std::string out("\xc2\x3e", 2);                             // (1000 << 3) | 2 as a varint
  uint64_t v = payload;
  for (int i = 0; i < 4; ++i) {
    out += static_cast<char>((v & 0x7f) | (i < 3 ? 0x80 : 0));
    v >>= 7;
  }
  out.append(payload, 'p');
  return out;
}

// A collection holds one (embedding type, model): each gets its own type.
v1::CollectionSpec Spec(const std::string& embedding_type, uint32_t dimension) {
  v1::CollectionSpec spec;
  spec.set_embedding_type(embedding_type);
  spec.set_dimension(dimension);
  spec.set_metric(v1::METRIC_COSINE);
  return spec;
}

}  // namespace

TEST_CASE("every named size limit holds at its value and refuses one more", "[limits]") {
  constexpr int64_t kContentLimit = 1024;
  Daemon daemon({.extra_args = {"--max-content-bytes", "1024", "--max-search-k", "50"}});
  Client& client = daemon.client();

  SECTION("content bytes (--max-content-bytes)") {
    std::string rejected;
    RequireBoundary(
        "content", kContentLimit,
        [&](int64_t n) {
          rejected = std::string(static_cast<size_t>(n), static_cast<char>('a' + n % 26));
          v1::IngestAtomResponse r;
          return client.IngestAtom(TextAtom(rejected), &r);
        },
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        "content: 1025 bytes exceeds the limit of 1024 bytes");
    v1::Atom atom;
    CHECK(client.GetAtomByHash(Sha256Hex(rejected), false, &atom).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }

  SECTION("message size: the server's receive limit, --max-content-bytes + 16 MiB") {
    const int64_t limit = kContentLimit + (int64_t{16} << 20);
    auto channel = grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials());
    const auto* method = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
        "hartonomous.v1.AdminService.GetStats");
    REQUIRE(method != nullptr);
    RequireBoundary(
        "message size", limit,
        [&](int64_t n) { return CallMethodWithBytes(channel, *method, UnknownFieldMessage(n)); },
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        "(" + std::to_string(limit + 1) + " vs. " + std::to_string(limit) + ")");
  }

  SECTION("metadata bytes (1 MiB) and nesting depth (64 levels)") {
    int serial = 0;
    auto ingest = [&](std::string metadata) {
      auto atom = TextAtom("metadata probe " + std::to_string(serial++));
      atom.set_metadata(std::move(metadata));
      v1::IngestAtomResponse r;
      return client.IngestAtom(atom, &r);
    };
    // The atom content limit is 1 KiB here; metadata has its own limit.
    RequireBoundary(
        "metadata bytes", int64_t{1} << 20, [&](int64_t n) { return ingest(MetadataOfBytes(n)); },
        grpc::StatusCode::INVALID_ARGUMENT, "metadata: longer than 1048576 bytes");
    RequireBoundary(
        "metadata depth", 64, [&](int64_t n) { return ingest(MetadataOfDepth(n)); },
        grpc::StatusCode::INVALID_ARGUMENT, "metadata: JSON nested deeper than 64 levels");
  }

  SECTION("vector dimension (16384), k (--max-search-k) and ef (4096)") {
    int serial = 0;
    RequireBoundary(
        "dimension", 16384,
        [&](int64_t n) {
          v1::CreateCollectionRequest request;
          request.set_name("dim" + std::to_string(serial++));
          *request.mutable_spec() = Spec(request.name(), static_cast<uint32_t>(n));
          v1::Collection collection;
          return client.CreateCollection(request, &collection);
        },
        grpc::StatusCode::INVALID_ARGUMENT, "spec.dimension: must be in [1, 16384], got 16385");

    v1::IngestAtomResponse atom;
    REQUIRE(client.IngestAtom(TextAtom("a vector's atom"), &atom).ok());
    v1::EmbeddingInput input;
    input.set_atom_id(atom.atom_id());
    for (float x : {1.0f, 0.5f, 0.25f, 0.0f}) input.add_vector(x);
    const v1::CollectionSpec spec = Spec("probe", 4);
    v1::AddEmbeddingsResponse added;
    REQUIRE(client.AddEmbeddings("vectors", &spec, {input}, &added).ok());
    auto search = [&](int64_t k, int64_t ef) {
      v1::SearchRequest request;
      request.set_collection("vectors");
      for (float x : {1.0f, 0.5f, 0.25f, 0.0f}) request.add_vector(x);
      request.set_limit(static_cast<uint32_t>(k));
      request.mutable_params()->set_ef(static_cast<uint32_t>(ef));
      v1::SearchResponse response;
      grpc::Status status = client.Search(request, &response);
      if (status.ok() && response.results_size() != 1) {
        return grpc::Status(grpc::StatusCode::INTERNAL, "expected the one vector");
      }
      return status;
    };
    RequireBoundary(
        "k", 50, [&](int64_t k) { return search(k, 0); }, grpc::StatusCode::INVALID_ARGUMENT,
        "limit: must be in [1, 50], got 51");
    RequireBoundary(
        "ef", 4096, [&](int64_t ef) { return search(10, ef); }, grpc::StatusCode::INVALID_ARGUMENT,
        "params.ef: must be in [0, 4096], got 4097");
  }

  SECTION("traversal depth (64) and nodes (100000), relations per request (10000)") {
    std::vector<v1::IngestAtomRequest> atoms = {TextAtom("graph a"), TextAtom("graph b")};
    v1::IngestAtomsResponse ingested;
    REQUIRE(client.IngestAtoms(atoms, &ingested).ok());
    const uint64_t a = ingested.results(0).atom_id();
    const uint64_t b = ingested.results(1).atom_id();
    auto traverse = [&](int64_t depth, int64_t nodes) {
      v1::TraverseRelationsRequest request;
      request.set_atom_id(a);
      request.set_max_depth(static_cast<uint32_t>(depth));
      request.set_max_nodes(static_cast<uint32_t>(nodes));
      v1::TraverseRelationsResponse response;
      return client.TraverseRelations(request, &response);
    };
    RequireBoundary(
        "max_depth", 64, [&](int64_t d) { return traverse(d, 0); },
        grpc::StatusCode::INVALID_ARGUMENT, "max_depth: at most 64");
    RequireBoundary(
        "max_nodes", 100000, [&](int64_t n) { return traverse(0, n); },
        grpc::StatusCode::INVALID_ARGUMENT, "max_nodes: at most 100000");

    int64_t ordinal_base = 0;
    RequireBoundary(
        "relations per request", 10000,
        [&](int64_t n) {
          v1::AddRelationsRequest request;
          for (int64_t i = 0; i < n; ++i) {
            v1::Relation* r = request.add_relations();
            r->set_source_atom_id(a);
            r->set_target_atom_id(b);
            r->set_relation_type("limit-probe");
            r->set_ordinal(static_cast<uint64_t>(ordinal_base + i));
          }
          ordinal_base += n;
          v1::AddRelationsResponse response;
          return client.AddRelations(request, &response);
        },
        grpc::StatusCode::INVALID_ARGUMENT, "relations: at most 10000 per request");
    // The refused request stored none of its edges.
    v1::ListRelationsRequest list;
    list.set_atom_id(a);
    list.set_relation_type("limit-probe");
    size_t edges = 0;
    REQUIRE(client.ListRelations(list, [&](const v1::Relation&) { return ++edges, true; }).ok());
    CHECK(edges == 9999 + 10000);
  }

  SECTION("page size: at most 1000, larger is capped") {
    std::vector<v1::IngestAtomRequest> atoms;
    for (int i = 0; i < 1001; ++i) atoms.push_back(TextAtom("page " + std::to_string(i), "page"));
    v1::IngestAtomsResponse ingested;
    REQUIRE(client.IngestAtoms(atoms, &ingested).ok());
    for (int32_t size : {999, 1000, 1001}) {
      v1::ListAtomsRequest request;
      request.set_subtype("page");
      request.set_page_size(size);
      v1::ListAtomsResponse page;
      REQUIRE(client.ListAtomsPage(request, &page).ok());
      INFO(size);
      CHECK(page.atoms_size() == std::min(size, 1000));
      CHECK_FALSE(page.next_page_token().empty());
    }
    v1::ListAtomsRequest negative;
    negative.set_page_size(-1);
    v1::ListAtomsResponse page;
    const grpc::Status refused = client.ListAtomsPage(negative, &page);
    CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(refused.error_message(), Catch::Contains("page_size: must be >= 0"));
  }

  SECTION("documents per stream: one") {
    grpc::ClientContext context;
    v1::IngestDocumentResponse response;
    auto stub = v1::AtomService::NewStub(
        grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials()));
    auto writer = stub->IngestDocument(&context, &response);
    v1::IngestDocumentRequest first;
    first.set_modality("text");
    first.set_source_uri("limits://first");
    first.set_content("the first document");
    REQUIRE(writer->Write(first));
    v1::IngestDocumentRequest second;
    second.set_source_uri("limits://second");
    second.set_content("a second document in the same stream");
    writer->Write(second);
    writer->WritesDone();
    const grpc::Status refused = writer->Finish();
    CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(refused.error_message() ==
          "message 2: sets source_uri, but only content may follow the first message (one "
          "document per stream)");
    v1::DeleteDocumentResponse deleted;
    CHECK(client.DeleteDocumentBySource("limits://first", &deleted).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }
}

TEST_CASE("a stream over --max-batch-bytes is refused whole, one within is stored",
          "[limits][stream]") {
  Daemon daemon({.extra_args = {"--max-content-bytes", "4096", "--max-batch-bytes", "65536"}});
  Client& client = daemon.client();
  auto batch = [](int atoms, const std::string& tag) {
    std::vector<v1::IngestAtomRequest> out;
    for (int i = 0; i < atoms; ++i) {
      auto atom = TextAtom(tag + " " + std::to_string(i) + std::string(900, 'b'));
      atom.clear_canonical_text();
      out.push_back(atom);
    }
    return out;
  };
  v1::IngestAtomsResponse response;
  const grpc::Status within = client.IngestAtoms(batch(16, "within"), &response);
  INFO(within.error_message());
  REQUIRE(within.ok());
  CHECK(response.results_size() == 16);
  const auto over = batch(128, "over");
  const grpc::Status refused = client.IngestAtoms(over, &response);
  CHECK(refused.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(refused.error_message(),
             Catch::Contains("exceed the limit of 65536 bytes per stream (--max-batch-bytes)"));
  for (const auto& atom : over) {
    v1::Atom stored;
    REQUIRE(client.GetAtomByHash(Sha256Hex(atom.content()), false, &stored).error_code() ==
            grpc::StatusCode::NOT_FOUND);
  }
}

TEST_CASE("concurrent streams per connection: at --max-concurrent-streams a new call waits",
          "[limits][stream]") {
  Daemon daemon({.extra_args = {"--max-concurrent-streams", "2"}});
  auto channel = grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto admin = v1::AdminService::NewStub(channel);
  // Two Watch streams, each held open after its first answer: the
  // connection is at its limit.
  struct Held {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>> reader;
  };
  std::vector<std::unique_ptr<Held>> held;
  grpc::health::v1::HealthCheckRequest watch;
  for (int i = 0; i < 2; ++i) {
    auto h = std::make_unique<Held>();
    h->reader = health->Watch(&h->context, watch);
    grpc::health::v1::HealthCheckResponse first;
    REQUIRE(h->reader->Read(&first));
    CHECK(first.status() == grpc::health::v1::HealthCheckResponse::SERVING);
    held.push_back(std::move(h));
  }
  // A third call on the same connection is not started while both are
  // open: it waits for a stream and reaches its deadline.
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    v1::GetStatsRequest request;
    v1::ServerStats stats;
    const grpc::Status waited = admin->GetStats(&context, request, &stats);
    CHECK(waited.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  // One stream closes: the next call runs.
  held[0]->context.TryCancel();
  grpc::health::v1::HealthCheckResponse rest;
  while (held[0]->reader->Read(&rest)) {
  }
  held[0]->reader->Finish();
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::GetStatsRequest request;
    v1::ServerStats stats;
    const grpc::Status ran = admin->GetStats(&context, request, &stats);
    INFO(ran.error_message());
    CHECK(ran.ok());
  }
  held[1]->context.TryCancel();
  while (held[1]->reader->Read(&rest)) {
  }
  held[1]->reader->Finish();
}

TEST_CASE("a call whose deadline has passed is DEADLINE_EXCEEDED and stores nothing", "[limits]") {
  Daemon daemon;
  auto stub = v1::AtomService::NewStub(
      grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  v1::IngestAtomResponse response;
  const auto atom = TextAtom("past its deadline");
  const grpc::Status late = stub->IngestAtom(&context, atom, &response);
  CHECK(late.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  v1::Atom stored;
  CHECK(daemon.client().GetAtomByHash(Sha256Hex(atom.content()), false, &stored).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}
