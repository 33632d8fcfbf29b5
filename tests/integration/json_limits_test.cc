// JSON limits through the real daemon: every JSON field of a request is
// bounded in depth (64 levels) and refused with INVALID_ARGUMENT naming the
// field and the limit; metadata stored past the limit (by a server that did
// not bound it) matches no filter and never takes the daemon down.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "storage/tables/atom_table.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

// Object metadata whose key "deep" holds `levels` nested arrays; the whole
// text is nested levels + 1 deep. 48,500 levels is about 97 KB, far under
// the 1 MiB byte limit.
std::string DeepMetadata(size_t levels) {
  return "{\"deep\":" + std::string(levels, '[') + std::string(levels, ']') + "}";
}

constexpr size_t kCrashDepth = 48500;

// The daemon is still running and answering.
void RequireServing(Daemon& daemon) {
  int status = 0;
  REQUIRE(waitpid(daemon.pid(), &status, WNOHANG) == 0);
  v1::ServerStats stats;
  REQUIRE(daemon.client().GetServerStats(&stats).ok());
}

void RequireTooDeep(const grpc::Status& s, const std::string& field) {
  CHECK(CodeName(s.error_code()) == "INVALID_ARGUMENT");
  CHECK(s.error_message() == field + ": JSON nested deeper than 64 levels");
}

v1::EmbeddingInput Input(uint64_t atom_id, const std::vector<float>& v) {
  v1::EmbeddingInput in;
  in.set_atom_id(atom_id);
  for (float x : v) in.add_vector(x);
  return in;
}

}  // namespace

TEST_CASE("deeply nested JSON in any request field is INVALID_ARGUMENT naming the field",
          "[json]") {
  Daemon daemon;
  Client& client = daemon.client();

  // IngestAtom, with and without a policy.
  auto atom = TextAtom("deep one");
  atom.set_metadata(DeepMetadata(kCrashDepth));
  v1::IngestAtomResponse ingested;
  RequireTooDeep(client.IngestAtom(atom, &ingested), "metadata");
  RequireServing(daemon);
  for (const char* policy : {"strict", "semantic", "spatial"}) {
    atom.set_policy(policy);
    RequireTooDeep(client.IngestAtom(atom, &ingested), "metadata");
    RequireServing(daemon);
  }
  atom.clear_policy();

  // Exactly at the limit is accepted (the key's value is 63 deep, the
  // object 64); one more level is refused.
  atom.set_metadata(DeepMetadata(63));
  REQUIRE(client.IngestAtom(atom, &ingested).ok());
  const uint64_t at_limit = ingested.atom_id();
  atom.set_content("deep two");
  atom.set_metadata(DeepMetadata(64));
  RequireTooDeep(client.IngestAtom(atom, &ingested), "metadata");

  // IngestAtoms: the failing atom is named, nothing of the stream is stored.
  std::vector<v1::IngestAtomRequest> batch = {TextAtom("batch ok"), TextAtom("batch deep")};
  batch[1].set_metadata(DeepMetadata(kCrashDepth));
  v1::IngestAtomsResponse batch_response;
  RequireTooDeep(client.IngestAtoms(batch, &batch_response), "atoms[1].metadata");
  v1::Atom got;
  CHECK(client.GetAtomByHash(Sha256Hex("batch ok"), false, &got).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  RequireServing(daemon);

  // The embedding sent with an atom, and AddEmbeddings.
  v1::CreateCollectionRequest create;
  create.set_name("c");
  create.mutable_spec()->set_embedding_type("text");
  create.mutable_spec()->set_model_id(1);
  create.mutable_spec()->set_dimension(4);
  create.mutable_spec()->set_metric(v1::METRIC_L2);
  v1::Collection collection;
  REQUIRE(client.CreateCollection(create, &collection).ok());
  auto with_embedding = TextAtom("embedded");
  with_embedding.mutable_embedding()->set_collection("c");
  for (float x : {1.0f, 0.0f, 0.0f, 0.0f}) with_embedding.mutable_embedding()->add_vector(x);
  with_embedding.mutable_embedding()->set_metadata(DeepMetadata(kCrashDepth));
  with_embedding.set_policy("semantic");
  RequireTooDeep(client.IngestAtom(with_embedding, &ingested), "embedding.metadata");
  auto input = Input(at_limit, {1, 2, 3, 4});
  input.set_metadata(DeepMetadata(kCrashDepth));
  v1::AddEmbeddingsResponse added;
  RequireTooDeep(client.AddEmbeddings("c", nullptr, {Input(at_limit, {0, 1, 0, 0}), input}, &added),
                 "embeddings[1].metadata");
  RequireServing(daemon);

  // IngestDocument: the user's metadata sits one level down in the
  // document's root atom, so it may nest 63 levels.
  v1::IngestDocumentRequest header;
  header.set_modality("text");
  header.set_source_type("test");
  header.set_metadata(DeepMetadata(kCrashDepth));
  v1::IngestDocumentResponse document;
  grpc::Status s = client.IngestDocument(header, std::string_view("One sentence. Two."), &document);
  CHECK(CodeName(s.error_code()) == "INVALID_ARGUMENT");
  CHECK(s.error_message() == "metadata: JSON nested deeper than 63 levels");
  header.set_metadata(DeepMetadata(63));
  s = client.IngestDocument(header, std::string_view("One sentence. Two."), &document);
  CHECK(s.error_message() == "metadata: JSON nested deeper than 63 levels");
  header.set_metadata(DeepMetadata(62));
  REQUIRE(client.IngestDocument(header, std::string_view("One sentence. Two."), &document).ok());
  RequireServing(daemon);

  // Policies and relations.
  v1::DeduplicationPolicy policy;
  policy.set_policy_name("deep");
  policy.set_hash_enabled(true);
  policy.set_is_active(true);
  policy.set_metadata(DeepMetadata(kCrashDepth));
  v1::DeduplicationPolicy created;
  RequireTooDeep(client.CreatePolicy(policy, &created), "policy.metadata");
  v1::AddRelationsRequest relations;
  auto* edge = relations.add_relations();
  edge->set_source_atom_id(at_limit);
  edge->set_target_atom_id(document.document_id());
  edge->set_relation_type("cites");
  edge->set_metadata(DeepMetadata(kCrashDepth / 2));  // within the 64 KiB of relation metadata
  v1::AddRelationsResponse related;
  RequireTooDeep(client.AddRelations(relations, &related), "relations[0].metadata");
  RequireServing(daemon);
}

TEST_CASE("metadata stored past the depth limit matches no filter and keeps the daemon up",
          "[json]") {
  TempDir dir;
  uint64_t poisoned = 0;
  uint64_t plain = 0;
  {
    Daemon daemon({.data_dir = dir.path(), .extra_args = {"--projection-fit-after", "0"}});
    Client& client = daemon.client();
    std::vector<v1::IngestAtomRequest> atoms = {TextAtom("to be poisoned"), TextAtom("plain")};
    atoms[0].set_metadata(R"({"deep":"x","tag":"t"})");
    atoms[1].set_metadata(R"({"deep":"x","tag":"t"})");
    v1::IngestAtomsResponse response;
    REQUIRE(client.IngestAtoms(atoms, &response).ok());
    poisoned = response.results(0).atom_id();
    plain = response.results(1).atom_id();
    v1::CollectionSpec spec;
    spec.set_embedding_type("text");
    spec.set_model_id(1);
    spec.set_dimension(4);
    spec.set_metric(v1::METRIC_L2);
    v1::AddEmbeddingsResponse added;
    REQUIRE(client
                .AddEmbeddings("c", &spec,
                               {Input(poisoned, {1, 0, 0, 0}), Input(plain, {0, 1, 0, 0})}, &added)
                .ok());
    v1::RefitProjectionRequest refit;
    refit.set_collection("c");
    refit.set_kind("random");
    v1::ProjectionInfo projection;
    REQUIRE(client.RefitProjection(refit, &projection).ok());
    REQUIRE(daemon.Stop() == 0);
  }
  {
    // As a server without the bound would have stored it: the atom's
    // metadata rewritten 48,500 levels deep, straight through storage.
    storage::EnvOptions options;
    options.path = dir.path();
    auto env = storage::Env::Open(options);
    REQUIRE(env.ok());
    auto tables = storage::OpenTables(**env);
    REQUIRE(tables.ok());
    storage::AtomTable atoms(*tables);
    storage::WriteTxn txn(**env, nullptr);
    REQUIRE(txn.status().ok());
    auto before = atoms.Get(txn, poisoned);
    REQUIRE(before.ok());
    REQUIRE(before->has_value());
    storage::AtomRecord after = **before;
    after.set_metadata(DeepMetadata(kCrashDepth));
    REQUIRE(atoms.Update(txn, **before, after).ok());
    REQUIRE(txn.Commit().ok());
  }
  // Across restarts: every filtered search answers, without the poisoned atom.
  for (int run = 0; run < 2; ++run) {
    Daemon daemon({.data_dir = dir.path(), .extra_args = {"--projection-fit-after", "0"}});
    Client& client = daemon.client();
    for (const char* key : {"deep", "tag"}) {
      CAPTURE(run, key);
      for (bool exact : {false, true}) {
        v1::SearchRequest q;
        q.set_collection("c");
        for (float x : {1.0f, 0.0f, 0.0f, 0.0f}) q.add_vector(x);
        q.set_limit(10);
        q.mutable_params()->set_exact(exact);
        (*q.mutable_filter()->mutable_metadata_equals())[key] =
            std::string(key) == "deep" ? "x" : "t";
        q.set_with_metadata(true);
        v1::SearchResponse found;
        grpc::Status s = client.Search(q, &found);
        REQUIRE(s.ok());
        REQUIRE(found.results_size() == 1);
        CHECK(found.results(0).atom_id() == plain);
        RequireServing(daemon);
      }
      v1::HybridSearchRequest h;
      h.set_collection("c");
      for (float x : {1.0f, 0.0f, 0.0f, 0.0f}) h.add_vector(x);
      h.set_limit(10);
      h.set_keep_fraction(1.0);
      (*h.mutable_filter()->mutable_metadata_equals())[key] =
          std::string(key) == "deep" ? "x" : "t";
      v1::HybridSearchResponse hybrid;
      grpc::Status s = client.HybridSearch(h, &hybrid);
      REQUIRE(s.ok());
      REQUIRE(hybrid.results_size() == 1);
      CHECK(hybrid.results(0).atom_id() == plain);
      RequireServing(daemon);
    }
    // The poisoned atom is still readable as stored.
    v1::Atom got;
    REQUIRE(client.GetAtom(poisoned, false, &got).ok());
    CHECK(got.metadata().size() == DeepMetadata(kCrashDepth).size());
  }
}
