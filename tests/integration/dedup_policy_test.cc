// Ingest with a deduplication policy and an embedding, through the real
// daemon: thresholds at their exact boundaries, the matched atom's reference
// count and audit, batches (all or nothing), bad input, and the CLI.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "daemon_harness.h"
#include "test_util.h"
#include "tests/threshold_boundaries.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

void MakeCollection(Client& client, const std::string& name,
                    v1::Metric metric = v1::METRIC_COSINE) {
  v1::CreateCollectionRequest create;
  create.set_name(name);
  create.mutable_spec()->set_embedding_type(name);
  create.mutable_spec()->set_dimension(3);
  create.mutable_spec()->set_metric(metric);
  create.mutable_spec()->mutable_index()->set_kind("flat");
  v1::Collection collection;
  REQUIRE(client.CreateCollection(create, &collection).ok());
}

struct Thresholds {
  std::optional<double> semantic, spatial;
};

void MakePolicy(Client& client, const std::string& name, Thresholds thresholds,
                bool active = true) {
  v1::DeduplicationPolicy policy;
  policy.set_policy_name(name);
  policy.set_hash_enabled(true);
  if (thresholds.semantic) policy.set_semantic_threshold(*thresholds.semantic);
  if (thresholds.spatial) policy.set_spatial_threshold(*thresholds.spatial);
  policy.set_is_active(active);
  v1::DeduplicationPolicy created;
  REQUIRE(client.CreatePolicy(policy, &created).ok());
}

v1::IngestAtomRequest WithEmbedding(const std::string& content, const std::string& collection,
                                    std::vector<float> vector, const std::string& policy = "") {
  auto request = TextAtom(content);
  request.set_metadata(R"({"from":"test"})");
  SetDedup(&request, policy, collection, vector);
  return request;
}

uint64_t UniqueAtoms(Client& client) {
  v1::DedupStats stats;
  REQUIRE(client.GetDedupStats(1, &stats).ok());
  return stats.total().unique_atoms();
}

// An atom stored at `stored` in collection, then `content` at `near` under
// policy; and the stored atom as it is afterwards.
struct NearPair {
  v1::IngestAtomResponse stored, near;
  v1::Atom stored_after;
};

NearPair IngestNear(Client& client, const std::string& collection, const std::string& policy,
                    std::vector<float> stored, const std::string& content,
                    std::vector<float> near) {
  NearPair out;
  REQUIRE(client.IngestAtom(WithEmbedding("stored " + collection, collection, stored), &out.stored)
              .ok());
  REQUIRE(client.IngestAtom(WithEmbedding(content, collection, near, policy), &out.near).ok());
  REQUIRE(client.GetAtom(out.stored.atom_id(), false, &out.stored_after).ok());
  return out;
}

// Each test case's daemon and its client.
struct WithDaemon {
  Daemon daemon;
  Client& client = daemon.client();
};

}  // namespace

TEST_CASE_METHOD(WithDaemon,
                 "semantic policy: threshold at, just below and just above the similarity",
                 "[dedup_policy]") {
  // One collection per case, each with a stored atom at (1, 0, 0); the new
  // content is at (3, 4, 0): cosine similarity 3/5 = 0.6 exactly.
  for (const Boundary& c : ThresholdBoundaries(0.6, 0.0)) {
    INFO(c.name);
    const std::string collection = std::string("c-") + c.name;
    const std::string policy = std::string("p-") + c.name;
    MakeCollection(client, collection);
    MakePolicy(client, policy, {.semantic = c.threshold});
    const std::string content = "near " + collection;
    const NearPair p = IngestNear(client, collection, policy, {1, 0, 0}, content, {3, 4, 0});
    const v1::IngestAtomResponse &base = p.stored, &r = p.near;
    REQUIRE(base.created());
    CHECK(base.dedup().rule() == "none");
    CHECK(base.dedup().policy().empty());
    CHECK(r.dedup().policy() == policy);
    REQUIRE(r.dedup().has_semantic_nearest());
    CHECK(r.dedup().semantic_nearest().atom_id() == base.atom_id());
    CHECK(r.dedup().semantic_nearest().similarity() == 0.6);
    v1::Atom dropped;
    const grpc::Status by_hash = client.GetAtomByHash(Sha256Hex(content), false, &dropped);
    if (c.match) {
      CHECK(r.dedup().rule() == "semantic");
      CHECK(r.dedup().matched_atom_id() == base.atom_id());
      CHECK(r.atom_id() == base.atom_id());
      CHECK(r.content_hash() == base.content_hash());
      CHECK_FALSE(r.created());
      CHECK(r.reference_count() == 2);
      CHECK(p.stored_after.reference_count() == 2);
      auto audit = nlohmann::json::parse(p.stored_after.metadata());
      CHECK(audit["from"] == "test");
      CHECK(audit["dedup"]["matches"] == 1);
      CHECK(audit["dedup"]["last"]["policy"] == policy);
      CHECK(audit["dedup"]["last"]["rule"] == "semantic");
      CHECK(audit["dedup"]["last"]["similarity"].get<double>() == 0.6);
      CHECK(audit["dedup"]["last"]["content_hash"] == Sha256Hex(content));
      CHECK(by_hash.error_code() == grpc::StatusCode::NOT_FOUND);
    } else {
      CHECK(r.dedup().rule() == "none");
      CHECK(r.dedup().matched_atom_id() == 0);
      CHECK(r.created());
      CHECK(p.stored_after.reference_count() == 1);
      REQUIRE(by_hash.ok());
      auto audit = nlohmann::json::parse(dropped.metadata());
      CHECK(audit["dedup"]["rule"] == "none");
      CHECK(audit["dedup"]["semantic_nearest"]["atom_id"] == base.atom_id());
      v1::GetEmbeddingsResponse rows;
      REQUIRE(client.GetEmbeddings(r.atom_id(), collection, &rows).ok());
      CHECK(rows.embeddings_size() == 1);
    }
  }
}

TEST_CASE_METHOD(WithDaemon,
                 "spatial policy: threshold at, just above and just below the projected distance",
                 "[dedup_policy]") {
  // Dimension 3 projects onto its own axes: (0, 0, 0) and (3, 4, 0) are 5 apart.
  for (const Boundary& c : ThresholdBoundaries(5.0, 6.0)) {
    INFO(c.name);
    const std::string collection = std::string("s-") + c.name;
    MakeCollection(client, collection, v1::METRIC_L2);
    MakePolicy(client, collection, {.spatial = c.threshold});
    const NearPair p =
        IngestNear(client, collection, collection, {0, 0, 0}, "five away " + collection, {3, 4, 0});
    const v1::IngestAtomResponse &base = p.stored, &r = p.near;
    REQUIRE(r.dedup().has_spatial_nearest());
    CHECK(r.dedup().spatial_nearest().atom_id() == base.atom_id());
    CHECK(r.dedup().spatial_nearest().distance() == 5.0);
    CHECK_FALSE(r.dedup().has_semantic_nearest());
    if (c.match) {
      CHECK(r.dedup().rule() == "spatial");
      CHECK(r.atom_id() == base.atom_id());
      CHECK(p.stored_after.reference_count() == 2);
      auto audit = nlohmann::json::parse(p.stored_after.metadata());
      CHECK(audit["dedup"]["last"]["distance"].get<double>() == 5.0);
    } else {
      CHECK(r.dedup().rule() == "none");
      CHECK(r.created());
      CHECK(p.stored_after.reference_count() == 1);
    }
  }
}

TEST_CASE_METHOD(WithDaemon,
                 "inactive atoms are not matched; a released match can be ingested again",
                 "[dedup_policy]") {
  MakeCollection(client, "c");
  MakePolicy(client, "p", {.semantic = 0.5});
  v1::IngestAtomResponse a;
  REQUIRE(client.IngestAtom(WithEmbedding("a", "c", {1, 0, 0}), &a).ok());
  v1::Atom released;
  REQUIRE(client.ReleaseAtom(a.atom_id(), &released).ok());
  REQUIRE_FALSE(released.is_active());
  v1::IngestAtomResponse b;
  REQUIRE(client.IngestAtom(WithEmbedding("b", "c", {1, 0, 0}, "p"), &b).ok());
  CHECK(b.created());
  CHECK(b.dedup().rule() == "none");
  CHECK_FALSE(b.dedup().has_semantic_nearest());
  v1::IngestAtomResponse c;
  REQUIRE(client.IngestAtom(WithEmbedding("c", "c", {2, 0.1f, 0}, "p"), &c).ok());
  CHECK(c.dedup().matched_atom_id() == b.atom_id());
}

TEST_CASE_METHOD(WithDaemon, "IngestAtoms applies policies per atom and commits all or nothing",
                 "[dedup_policy]") {
  MakeCollection(client, "c");
  MakePolicy(client, "p", {.semantic = 0.9});
  v1::IngestAtomResponse base;
  REQUIRE(client.IngestAtom(WithEmbedding("base", "c", {1, 0, 0}), &base).ok());
  const uint64_t before = UniqueAtoms(client);

  // The second atom is bad: nothing of the stream is stored, not even the
  // first atom's embedding or the match's reference.
  std::vector<v1::IngestAtomRequest> bad = {WithEmbedding("new", "c", {0, 1, 0}, "p"),
                                            WithEmbedding("near", "c", {1, 0.01f, 0}, "p"),
                                            WithEmbedding("wrong", "c", {1, 0}, "p")};
  v1::IngestAtomsResponse response;
  grpc::Status status = client.IngestAtoms(bad, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::StartsWith("atoms[2].embedding.vector: 2 components"));
  CHECK(UniqueAtoms(client) == before);
  v1::Atom atom;
  REQUIRE(client.GetAtom(base.atom_id(), false, &atom).ok());
  CHECK(atom.reference_count() == 1);
  v1::Collection collection;
  REQUIRE(client.GetCollection("c", &collection).ok());
  CHECK(collection.vector_count() == 1);

  bad.pop_back();
  REQUIRE(client.IngestAtoms(bad, &response).ok());
  REQUIRE(response.results_size() == 2);
  CHECK(response.results(0).dedup().rule() == "none");
  CHECK(response.results(0).created());
  CHECK(response.results(1).dedup().rule() == "semantic");
  CHECK(response.results(1).atom_id() == base.atom_id());
  CHECK(response.atoms_created() == 1);
  CHECK(response.atoms_reused() == 1);
  REQUIRE(client.GetCollection("c", &collection).ok());
  CHECK(collection.vector_count() == 2);
}

TEST_CASE_METHOD(WithDaemon,
                 "bad policy and embedding input is refused, naming the field and the rule",
                 "[dedup_policy][errors]") {
  MakeCollection(client, "c");
  MakePolicy(client, "off", {.semantic = 0.5}, /*active=*/false);
  MakePolicy(client, "p", {.semantic = 0.5});
  struct Case {
    const char* name;
    v1::IngestAtomRequest request;
    grpc::StatusCode code;
    const char* message;
  };
  auto no_collection = WithEmbedding("x", "", {1, 0, 0}, "p");
  auto nan = WithEmbedding("x", "c", {1, NAN, 0}, "p");
  auto inf = WithEmbedding("x", "c", {1, 0, INFINITY}, "p");
  auto empty_vector = WithEmbedding("x", "c", {}, "p");
  auto reserved = WithEmbedding("x", "c", {1, 0, 0}, "p");
  reserved.set_metadata(R"({"dedup":1})");
  auto bad_embedding_metadata = WithEmbedding("x", "c", {1, 0, 0}, "p");
  bad_embedding_metadata.mutable_embedding()->set_metadata("[1]");
  const std::vector<Case> cases = {
      {"unknown policy", WithEmbedding("x", "c", {1, 0, 0}, "nope"), grpc::StatusCode::NOT_FOUND,
       "policy: no policy is named 'nope'"},
      {"inactive policy", WithEmbedding("x", "c", {1, 0, 0}, "off"),
       grpc::StatusCode::FAILED_PRECONDITION, "policy: policy 'off' is inactive"},
      {"bad policy name", WithEmbedding("x", "c", {1, 0, 0}, "has space"),
       grpc::StatusCode::INVALID_ARGUMENT, "policy: 1-64 bytes of [A-Za-z0-9_.-]"},
      {"no collection", no_collection, grpc::StatusCode::INVALID_ARGUMENT,
       "embedding.collection: required when an embedding is given"},
      {"unknown collection", WithEmbedding("x", "nope", {1, 0, 0}, "p"),
       grpc::StatusCode::NOT_FOUND, "embedding.collection: no collection named 'nope'"},
      {"wrong dimension", WithEmbedding("x", "c", {1, 0, 0, 0}, "p"),
       grpc::StatusCode::INVALID_ARGUMENT,
       "embedding.vector: 4 components but collection 'c' has dimension 3"},
      {"empty vector", empty_vector, grpc::StatusCode::INVALID_ARGUMENT,
       "embedding.vector: required"},
      {"NaN", nan, grpc::StatusCode::INVALID_ARGUMENT,
       "embedding.vector[1]: must be finite, got NaN"},
      {"infinity", inf, grpc::StatusCode::INVALID_ARGUMENT,
       "embedding.vector[2]: must be finite, got Inf"},
      {"zero vector", WithEmbedding("x", "c", {0, 0, 0}, "p"), grpc::StatusCode::INVALID_ARGUMENT,
       "embedding.vector: all components are zero"},
      {"reserved metadata key", reserved, grpc::StatusCode::INVALID_ARGUMENT,
       "metadata: the top-level key 'dedup' is reserved"},
      {"embedding metadata", bad_embedding_metadata, grpc::StatusCode::INVALID_ARGUMENT,
       "embedding.metadata: must be a JSON object"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    v1::IngestAtomResponse response;
    const grpc::Status status = client.IngestAtom(c.request, &response);
    CHECK(CodeName(status.error_code()) == CodeName(c.code));
    CHECK_THAT(status.error_message(), Catch::StartsWith(c.message));
  }
  CHECK(UniqueAtoms(client) == 0);
}

TEST_CASE_METHOD(WithDaemon,
                 "hartonomous ingest --policy --collection --vector prints the decision",
                 "[dedup_policy][cli]") {
  MakeCollection(client, "c");
  MakePolicy(client, "p", {.semantic = 0.6});
  TempDir dir;
  const std::string base = dir.path() + "/base.txt", near = dir.path() + "/near.txt",
                    vector_file = dir.path() + "/v.txt";
  std::ofstream(base) << "base content";
  std::ofstream(near) << "near content";
  std::ofstream(vector_file) << "3 4\n0\n";
  auto cli = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {CliPath(), "--server", daemon.address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  };
  auto first = cli({"ingest", "--collection", "c", "--vector", "1,0,0", base});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  auto second = cli({"ingest", "--json", "--policy", "p", "--collection", "c", "--vector-file",
                     vector_file, near});
  INFO(second.out << second.err);
  REQUIRE(second.exit_code == 0);
  auto out = nlohmann::json::parse(second.out);
  const auto& result = out["results"][0];
  CHECK(result["dedup"]["policy"] == "p");
  CHECK(result["dedup"]["rule"] == "semantic");
  CHECK(result["dedup"]["matched_atom_id"] == 1);
  CHECK(result["dedup"]["semantic_nearest"]["similarity"].get<double>() == 0.6);
  CHECK(result["reference_count"] == 2);

  auto text = cli({"ingest", "--policy", "p", "--collection", "c", "--vector", "0,0,1", near});
  INFO(text.out << text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("created") && Catch::Contains("policy p: none"));

  // A vector with several files, or without a collection, is a usage error.
  CHECK(cli({"ingest", "--collection", "c", "--vector", "1,0,0", base, near}).exit_code == 2);
  CHECK(cli({"ingest", "--vector", "1,0,0", base}).exit_code == 2);
  CHECK(cli({"ingest", "--collection", "c", "--vector", "1,x,0", base}).exit_code == 2);
}
