#include "server/rpc/atom/atom_validation.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "server/engine/common/paging.h"

using namespace hartonomous;
using namespace hartonomous::rpc;

namespace {

v1::IngestAtomRequest Valid() {
  v1::IngestAtomRequest r;
  r.set_content("hello");
  r.set_modality("text");
  r.set_metadata(R"({"lang":"en"})");
  return r;
}

}  // namespace

TEST_CASE("a valid ingest request passes") { CHECK(ValidateIngest(Valid(), Limits{}).ok()); }

TEST_CASE("each ingest rule names its field") {
  Limits limits;
  limits.max_content_bytes = 10;
  struct Case {
    const char* name;
    std::function<void(v1::IngestAtomRequest&)> mutate;
    Status::Code code;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"empty content", [](auto& r) { r.clear_content(); }, Status::Code::kInvalidArgument,
       "content"},
      {"oversize", [](auto& r) { r.set_content(std::string(11, 'x')); },
       Status::Code::kResourceExhausted, "content"},
      {"no modality", [](auto& r) { r.clear_modality(); }, Status::Code::kInvalidArgument,
       "modality"},
      {"upper-case modality", [](auto& r) { r.set_modality("Text"); },
       Status::Code::kInvalidArgument, "modality"},
      {"long subtype", [](auto& r) { r.set_subtype(std::string(65, 's')); },
       Status::Code::kInvalidArgument, "subtype"},
      {"long uri", [](auto& r) { r.set_source_uri(std::string(3000, 'u')); },
       Status::Code::kInvalidArgument, "source_uri"},
      {"bad json", [](auto& r) { r.set_metadata("{"); }, Status::Code::kInvalidArgument,
       "metadata"},
      {"json array", [](auto& r) { r.set_metadata("[]"); }, Status::Code::kInvalidArgument,
       "metadata"},
      {"infinite point", [](auto& r) { r.mutable_spatial_key()->set_y(INFINITY); },
       Status::Code::kInvalidArgument, "spatial_key"},
      {"reserved metadata key", [](auto& r) { r.set_metadata(R"({"dedup":{}})"); },
       Status::Code::kInvalidArgument, "metadata: the top-level key 'dedup' is reserved"},
      {"bad policy name", [](auto& r) { r.set_policy("a b"); }, Status::Code::kInvalidArgument,
       "policy: 1-64 bytes"},
      {"embedding without collection", [](auto& r) { r.mutable_embedding()->add_vector(1); },
       Status::Code::kInvalidArgument, "embedding.collection: required"},
      {"bad collection name",
       [](auto& r) {
         r.mutable_embedding()->set_collection("a b");
         r.mutable_embedding()->add_vector(1);
       },
       Status::Code::kInvalidArgument, "embedding.collection"},
      {"empty vector", [](auto& r) { r.mutable_embedding()->set_collection("c"); },
       Status::Code::kInvalidArgument, "embedding.vector: required"},
      {"NaN component",
       [](auto& r) {
         r.mutable_embedding()->set_collection("c");
         r.mutable_embedding()->add_vector(1);
         r.mutable_embedding()->add_vector(NAN);
       },
       Status::Code::kInvalidArgument, "embedding.vector[1]: must be finite"},
      {"embedding metadata",
       [](auto& r) {
         r.mutable_embedding()->set_collection("c");
         r.mutable_embedding()->add_vector(1);
         r.mutable_embedding()->set_metadata("3");
       },
       Status::Code::kInvalidArgument, "embedding.metadata"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto r = Valid();
    c.mutate(r);
    Status s = ValidateIngest(r, limits, "atoms[2]");
    CHECK(s.code() == c.code);
    CHECK_THAT(s.message(), Catch::StartsWith(std::string("atoms[2].") + c.field));
  }
}

TEST_CASE("an ingest with a policy and an embedding passes") {
  auto r = Valid();
  r.set_policy("semantic");
  r.mutable_embedding()->set_collection("docs.v1");
  for (float x : {1.0f, 0.0f, -2.5f}) r.mutable_embedding()->add_vector(x);
  r.mutable_embedding()->set_metadata(R"({"model":"m"})");
  CHECK(ValidateIngest(r, Limits{}).ok());
}

TEST_CASE("get, list and stats requests") {
  v1::GetAtomRequest get;
  CHECK(ValidateGetAtom(get).code() == Status::Code::kInvalidArgument);
  get.set_content_hash("xyz");
  CHECK_THAT(ValidateGetAtom(get).message(), Catch::Contains("content_hash"));
  get.set_content_hash(std::string(64, 'A'));
  CHECK(ValidateGetAtom(get).ok());
  get.set_atom_id(0);
  CHECK_THAT(ValidateGetAtom(get).message(), Catch::Contains("atom_id"));

  v1::ListAtomsRequest list;
  list.set_page_size(-1);
  CHECK_THAT(ValidateListAtoms(list).message(), Catch::Contains("page_size"));
  CHECK(engine::EffectivePageSize(0) == 50);
  CHECK(engine::EffectivePageSize(7) == 7);
  CHECK(engine::EffectivePageSize(100000) == 1000);
  CHECK(EffectiveTopN(0) == 10);
  CHECK_FALSE(ValidateTopN(-1).ok());
}

TEST_CASE("document and relation requests: each rule names its field") {
  v1::IngestDocumentRequest doc;
  CHECK(ValidateDocumentHeader(doc).ok());  // everything optional
  doc.set_modality("Text!");
  CHECK(ValidateDocumentHeader(doc).message().rfind("modality:", 0) == 0);
  doc.set_modality("text");
  doc.set_metadata("[1]");
  CHECK(ValidateDocumentHeader(doc).message().rfind("metadata:", 0) == 0);
  doc.set_metadata("");
  doc.mutable_options()->set_frame_ms(20000);
  CHECK(ValidateDocumentHeader(doc).message().rfind("options.frame_ms:", 0) == 0);
  doc.mutable_options()->set_frame_ms(0);
  doc.mutable_options()->set_chunk_avg_bytes(100);  // below the default min of 2048
  CHECK(ValidateDocumentHeader(doc).message().rfind("options.chunk_min", 0) == 0);
  CHECK(ToDecomposeOptions(v1::DecompositionOptions()).patch_width == 16);

  v1::AddRelationsRequest add;
  CHECK(ValidateAddRelations(add).message().rfind("relations:", 0) == 0);
  auto* r = add.add_relations();
  r->set_source_atom_id(1);
  r->set_target_atom_id(2);
  r->set_relation_type("next");
  CHECK(ValidateAddRelations(add).ok());
  r->set_weight(std::numeric_limits<double>::infinity());
  CHECK(ValidateAddRelations(add).message().rfind("relations[0].weight:", 0) == 0);
  r->clear_weight();
  r->set_target_atom_id(0);
  CHECK(ValidateAddRelations(add).message().rfind("relations[0].target_atom_id:", 0) == 0);
  r->set_target_atom_id(2);
  r->set_metadata("nope");
  CHECK(ValidateAddRelations(add).message().rfind("relations[0].metadata:", 0) == 0);

  v1::ListRelationsRequest list;
  CHECK(ValidateListRelations(list).message().rfind("atom_id:", 0) == 0);
  list.set_atom_id(1);
  list.set_page_size(-1);
  CHECK(ValidateListRelations(list).message().rfind("page_size:", 0) == 0);
  list.set_page_size(0);
  list.set_relation_type("a b");
  CHECK(ValidateListRelations(list).message().rfind("relation_type:", 0) == 0);

  v1::TraverseRelationsRequest traverse;
  traverse.set_atom_id(1);
  traverse.set_max_depth(65);
  CHECK(ValidateTraverse(traverse).message().rfind("max_depth:", 0) == 0);
  traverse.set_max_depth(0);
  traverse.add_relation_types("");
  CHECK(ValidateTraverse(traverse).message().rfind("relation_types[0]:", 0) == 0);
  CHECK(ValidateDocumentId(0).message().rfind("document_id:", 0) == 0);
}
