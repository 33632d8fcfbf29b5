#include <catch2/catch.hpp>

#include "server/rpc/validation.h"

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

TEST_CASE("a valid ingest request passes") {
  CHECK(ValidateIngest(Valid(), Limits{}).ok());
}

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
      {"empty content", [](auto& r) { r.clear_content(); }, Status::Code::kInvalidArgument, "content"},
      {"oversize", [](auto& r) { r.set_content(std::string(11, 'x')); }, Status::Code::kResourceExhausted, "content"},
      {"no modality", [](auto& r) { r.clear_modality(); }, Status::Code::kInvalidArgument, "modality"},
      {"upper-case modality", [](auto& r) { r.set_modality("Text"); }, Status::Code::kInvalidArgument, "modality"},
      {"long subtype", [](auto& r) { r.set_subtype(std::string(65, 's')); }, Status::Code::kInvalidArgument, "subtype"},
      {"long uri", [](auto& r) { r.set_source_uri(std::string(3000, 'u')); }, Status::Code::kInvalidArgument, "source_uri"},
      {"bad json", [](auto& r) { r.set_metadata("{"); }, Status::Code::kInvalidArgument, "metadata"},
      {"json array", [](auto& r) { r.set_metadata("[]"); }, Status::Code::kInvalidArgument, "metadata"},
      {"infinite point", [](auto& r) { r.mutable_spatial_key()->set_y(INFINITY); }, Status::Code::kInvalidArgument, "spatial_key"},
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
  CHECK(EffectivePageSize(0) == 50);
  CHECK(EffectivePageSize(7) == 7);
  CHECK(EffectivePageSize(100000) == 1000);
  CHECK(EffectiveTopN(0) == 10);
  CHECK_FALSE(ValidateTopN(-1).ok());
}
