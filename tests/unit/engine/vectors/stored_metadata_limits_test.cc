// Readers of stored metadata: an atom whose metadata was stored nested past
// kMaxJsonDepth (by a server that did not bound it) must not crash a search
// that filters on metadata; it matches no metadata filter.
#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/engine/vectors/embedding_fixture.h"

using namespace hartonomous;
using namespace hartonomous::engine;
using namespace hartonomous::engine::testing_fixture;

namespace {

// {"color":"c1","deep":[[[...]]]}, nested `levels` deep under "deep". Deep
// enough that nlohmann's recursive dump() of it runs off an 8 MiB stack.
std::string DeepMetadata(size_t levels) {
  return "{\"color\":\"c1\",\"deep\":" + std::string(levels, '[') + std::string(levels, ']') + "}";
}

}  // namespace

TEST_CASE("search filters skip atoms whose stored metadata is nested too deep") {
  Fixture f(false);
  auto atoms = f.MakeAtoms(40);  // metadata {"color":"c<i%5>","n":i}
  AtomInput poison;
  poison.content = "poison";
  poison.modality = "m1";
  poison.source_type = "test";
  poison.metadata = DeepMetadata(500000);
  auto stored = f.atom_engine().Ingest({poison});  // the engine does not re-validate
  REQUIRE(stored.ok());
  const uint64_t poison_id = stored->atoms[0].atom_id;
  atoms.push_back(poison_id);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(8, "hnsw", index::Metric::kL2)).ok());
  AddRandom(f, "c", atoms, 8, 3);
  REQUIRE(f.embeddings->RefitProjection("c", RefitOptions{}).ok());

  for (const auto& filter : std::vector<std::map<std::string, std::string>>{
           {{"deep", "[]"}}, {{"color", "c1"}}, {{"n", "6"}}}) {
    AtomFilter sf;
    for (const auto& kv : filter) sf.metadata_equals.push_back(kv);
    for (bool exact : {true, false}) {
      CAPTURE(exact, filter.begin()->first);
      auto q = NearestTo("c", std::vector<float>(8, 0.25f), 50);
      q.exact = exact;
      q.filter = sf;
      q.with_metadata = true;
      auto r = f.embeddings->Search(q);
      REQUIRE(r.ok());
      for (const auto& hit : r->hits) CHECK(hit.atom_id != poison_id);
      if (filter.begin()->first == "color") CHECK(r->hits.size() == 8);  // i % 5 == 1 of 40
      if (filter.begin()->first == "n") CHECK(r->hits.size() == 1);
    }
    auto h = NearestTo<HybridSearchQuery>("c", std::vector<float>(8, 0.25f), 50);
    h.keep_fraction = 1.0;
    h.filter = sf;
    auto hr = f.embeddings->HybridSearch(h);
    REQUIRE(hr.ok());
    for (const auto& hit : hr->hits) CHECK(hit.atom_id != poison_id);
    if (filter.begin()->first == "color") CHECK(hr->hits.size() == 8);
  }
  // The atom itself is still there, its metadata as stored.
  auto got = f.atom_engine().Get(poison_id, /*include_content=*/false);
  REQUIRE(got.ok());
}
