#include "server/rpc/search/search_validation.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>

#include "server/daemon_config.h"
#include "server/rpc/search/search_convert.h"

using namespace hartonomous;
using namespace hartonomous::rpc;

namespace {

v1::SearchRequest ValidSearch() {
  v1::SearchRequest r;
  r.set_collection("docs");
  r.add_vector(1);
  r.add_vector(2);
  r.set_limit(10);
  return r;
}

v1::EmbeddingInput ValidInput() {
  v1::EmbeddingInput in;
  in.set_atom_id(1);
  in.add_vector(0.5f);
  in.add_vector(-1);
  return in;
}

}  // namespace

TEST_CASE("each search rule names its field") {
  SearchLimits limits;
  limits.max_k = 100;
  CHECK(ValidateSearch("", ValidSearch(), limits).ok());
  struct Case {
    std::function<void(v1::SearchRequest&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.set_collection(""); },
       "collection: required, 1-128 characters of [A-Za-z0-9_.-]"},
      {[](auto& r) { r.set_collection("a b"); },
       "collection: required, 1-128 characters of [A-Za-z0-9_.-]"},
      {[](auto& r) { r.clear_vector(); }, "vector/atom_id: exactly one is required"},
      {[](auto& r) { r.set_atom_id(3); }, "vector/atom_id: exactly one is required"},
      {[](auto& r) { r.set_vector(1, std::nanf("")); }, "vector[1]: must be finite, got NaN"},
      {[](auto& r) { r.set_vector(0, -INFINITY); }, "vector[0]: must be finite, got Inf"},
      {[](auto& r) { r.set_limit(0); }, "limit: must be in [1, 100], got 0"},
      {[](auto& r) { r.set_limit(101); }, "limit: must be in [1, 100], got 101"},
      {[](auto& r) { r.mutable_params()->set_ef(5000); },
       "params.ef: must be in [0, 4096], got 5000"},
      {[](auto& r) {
         r.mutable_filter()->mutable_created_after()->set_seconds(10);
         r.mutable_filter()->mutable_created_before()->set_seconds(5);
       },
       "filter.created_after: must not be later than filter.created_before"},
      {[](auto& r) { (*r.mutable_filter()->mutable_metadata_equals())[""] = "x"; },
       "filter.metadata_equals: keys must not be empty"},
  };
  for (const auto& c : cases) {
    auto r = ValidSearch();
    c.mutate(r);
    Status s = ValidateSearch("", r, limits);
    INFO(c.message);
    CHECK(s.code() == Status::Code::kInvalidArgument);
    CHECK(s.message() == c.message);
  }
  v1::BatchSearchRequest batch;
  CHECK(ValidateBatchSearch(batch, limits).message() == "searches: at least one is required");
  *batch.add_searches() = ValidSearch();
  *batch.add_searches() = ValidSearch();
  batch.mutable_searches(1)->set_limit(0);
  CHECK(ValidateBatchSearch(batch, limits).message() ==
        "searches[1].limit: must be in [1, 100], got 0");
}

TEST_CASE("embedding inputs: finite, bounded, padded only with zeros") {
  CHECK(ValidateEmbeddingInput("e[0]", ValidInput()).ok());
  auto no_atom = ValidInput();
  no_atom.set_atom_id(0);
  CHECK(ValidateEmbeddingInput("e[0]", no_atom).message() == "e[0].atom_id: required, must be > 0");
  auto empty = ValidInput();
  empty.clear_vector();
  CHECK(ValidateEmbeddingInput("e[0]", empty).message() == "e[0].vector: must not be empty");
  auto nan = ValidInput();
  nan.set_vector(1, std::numeric_limits<float>::quiet_NaN());
  CHECK(ValidateEmbeddingInput("e[0]", nan).message() == "e[0].vector[1]: must be finite, got NaN");
  auto bad_json = ValidInput();
  bad_json.set_metadata("[1]");
  CHECK(ValidateEmbeddingInput("e[0]", bad_json).message() ==
        "e[0].metadata: must be a JSON object, got array");
  auto dim_disagrees = ValidInput();
  dim_disagrees.set_dimension(3);
  CHECK(ValidateEmbeddingInput("e[0]", dim_disagrees).message() ==
        "e[0].dimension: 3 but the vector has 2 components");

  v1::EmbeddingInput padded;
  padded.set_atom_id(1);
  padded.mutable_vector()->Resize(1998, 0.0f);
  padded.set_vector(0, 1);
  padded.set_vector(2, 3);
  padded.set_uses_max_dimension_padding(true);
  padded.set_dimension(3);
  CHECK(ValidateEmbeddingInput("e", padded).ok());
  auto converted = ToEmbeddingInput(v1::EmbeddingInput(padded));
  CHECK(converted.vector == std::vector<float>{1, 0, 3});
  CHECK(converted.uses_max_dimension_padding);
  auto nonzero = padded;
  nonzero.set_vector(3, 1);
  CHECK(ValidateEmbeddingInput("e", nonzero).message() ==
        "e.vector[3]: padding beyond dimension 3 must be 0");
  auto no_dim = padded;
  no_dim.set_dimension(0);
  CHECK(ValidateEmbeddingInput("e", no_dim).code() == Status::Code::kInvalidArgument);
  auto short_pad = padded;
  short_pad.mutable_vector()->Truncate(1000);
  CHECK(ValidateEmbeddingInput("e", short_pad).message() ==
        "e.vector: uses_max_dimension_padding requires 1998 components, got 1000");
}

TEST_CASE("collection specs: table-driven ranges, defaults filled on conversion") {
  v1::CreateCollectionRequest create;
  create.set_name("c");
  CHECK(ValidateCreateCollection(create).message() == "spec: required");
  create.mutable_spec()->set_embedding_type("text");
  create.mutable_spec()->set_dimension(16385);
  CHECK(ValidateCreateCollection(create).message() ==
        "spec.dimension: must be in [1, 16384], got 16385");
  create.mutable_spec()->set_dimension(16384);
  CHECK(ValidateCreateCollection(create).ok());
  create.mutable_spec()->mutable_index()->set_m(1);
  CHECK(ValidateCreateCollection(create).message() ==
        "spec.index.m: must be 0 (default) or in [2, 128], got 1");
  create.mutable_spec()->mutable_index()->set_m(0);
  create.mutable_spec()->mutable_index()->set_ef_search(5000);
  CHECK(ValidateCreateCollection(create).message() ==
        "spec.index.ef_search: must be 0 (default) or in [1, 4096], got 5000");
  create.mutable_spec()->mutable_index()->set_ef_search(0);
  create.mutable_spec()->set_metric(static_cast<v1::Metric>(9));
  CHECK(ValidateCreateCollection(create).message() == "spec.metric: unknown value 9");
  create.mutable_spec()->set_metric(v1::METRIC_INNER_PRODUCT);
  auto spec = ToCollectionSpec(create.spec());
  CHECK(spec.index_kind == "hnsw");
  CHECK(spec.metric == index::Metric::kInnerProduct);
  CHECK(spec.params.m == 16);
  CHECK(spec.params.ef_construction == 200);
  CHECK(spec.params.ef_search == 64);
  CHECK(spec.spatial_kind.empty());
  create.mutable_spec()->set_spatial_index("quadtree");
  CHECK(ValidateCreateCollection(create).message() ==
        "spec.spatial_index: unknown kind 'quadtree' (known: rtree, scan)");
  create.mutable_spec()->set_spatial_index("scan");
  CHECK(ValidateCreateCollection(create).ok());
  CHECK(ToCollectionSpec(create.spec()).spatial_kind == "scan");
}

TEST_CASE("daemon flags for vector search") {
  auto config = ParseDaemonFlags({"--max-search-k", "20", "--snapshot-interval", "0"});
  REQUIRE(config.ok());
  CHECK(config->max_search_k == 20);
  CHECK(config->snapshot_interval_seconds == 0);
  CHECK(ParseDaemonFlags({}).value().max_search_k == 1000);
  CHECK(ParseDaemonFlags({"--max-search-k", "0"}).status().code() ==
        Status::Code::kInvalidArgument);
  CHECK(ParseDaemonFlags({"--snapshot-interval", "-1"})
            .status()
            .message()
            .find("--snapshot-interval") != std::string::npos);
  CHECK(ParseDaemonFlags({}).value().projection_fit_after == 1000);
  CHECK(ParseDaemonFlags({"--projection-fit-after", "0"}).value().projection_fit_after == 0);
  CHECK(ParseDaemonFlags({"--projection-fit-after=5000"}).value().projection_fit_after == 5000);
  CHECK_THAT(ParseDaemonFlags({"--projection-fit-after", "many"}).status().message(),
             Catch::StartsWith("--projection-fit-after: vectors in [0,"));
}
