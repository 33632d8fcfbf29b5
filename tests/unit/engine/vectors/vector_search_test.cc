// VectorSearch: the search paths, atom filters (one AtomFilter, active-only
// as is_active = true), the query atom left out, errors naming the field,
// and hits charged to a response budget.
#include "server/engine/vectors/vector_search.h"

#include <catch2/catch.hpp>

#include "tests/unit/engine/vectors/collaborators_fixture.h"
#include "tests/unit/fields.h"

namespace hartonomous::engine {
namespace {

using namespace testing_parts;

// Atoms 0..n-1 with vector (i, 0): the nearest to (x, 0) are at |i - x|.
std::vector<uint64_t> Line(Parts& p, const std::string& collection, size_t n) {
  auto atoms = p.MakeAtoms(n);
  std::vector<EmbeddingInput> inputs;
  for (size_t i = 0; i < n; ++i) inputs.push_back({atoms[i], {float(i), 0}, "", false});
  REQUIRE(p.rows.Add(collection, std::nullopt, inputs).ok());
  return atoms;
}

SearchQuery Query(std::vector<float> vector, size_t k) {
  return NearestTo("c", std::move(vector), k);
}

std::vector<uint64_t> AtomsOf(const std::vector<SearchHit>& hits) {
  return testing::FieldOf(hits, &SearchHit::atom_id);
}

TEST_CASE("vector search: exact paths, filters and the query atom left out") {
  Parts p;
  p.Create("c", FlatSpec(2));
  auto atoms = Line(p, "c", 9);  // modality m{i%3}
  SearchQuery q = Query({4.1f, 0}, 3);
  auto plain = p.search.Search(q, nullptr);
  REQUIRE(plain.ok());
  CHECK(plain->path == SearchPath::kExact);  // a flat index is exact
  CHECK(AtomsOf(plain->hits) == std::vector<uint64_t>{atoms[4], atoms[5], atoms[3]});

  q.filter.modality = "m1";  // atoms 1, 4, 7
  auto filtered = p.search.Search(q, nullptr);
  REQUIRE(filtered.ok());
  CHECK(filtered->path == SearchPath::kExactFiltered);
  CHECK(filtered->candidates_examined == 3);
  CHECK(AtomsOf(filtered->hits) == std::vector<uint64_t>{atoms[4], atoms[7], atoms[1]});

  auto by_atom = NearestToAtom("c", atoms[0], 2);
  auto near = p.search.Search(by_atom, nullptr);
  REQUIRE(near.ok());
  CHECK(AtomsOf(near->hits) == std::vector<uint64_t>{atoms[1], atoms[2]});
}

TEST_CASE("vector search: is_active filters as ListAtoms does, active only in searches") {
  Parts p;
  p.Create("c", FlatSpec(2));
  auto atoms = Line(p, "c", 4);
  REQUIRE(p.atoms.Release(atoms[1]).ok());  // inactive; its embedding stays
  SearchQuery q = Query({0.9f, 0}, 4);
  auto any = p.search.Search(q, nullptr);
  REQUIRE(any.ok());
  CHECK(any->hits.size() == 4);
  q.filter.is_active = true;
  auto active = p.search.Search(q, nullptr);
  REQUIRE(active.ok());
  CHECK(AtomsOf(active->hits) == std::vector<uint64_t>{atoms[0], atoms[2], atoms[3]});
  q.filter.is_active = false;
  auto inactive = p.search.Search(q, nullptr);
  REQUIRE(inactive.ok());
  CHECK(AtomsOf(inactive->hits) == std::vector<uint64_t>{atoms[1]});
}

TEST_CASE("vector search: an ANN index answers alone, or scans the few matching rows") {
  Parts p;
  CollectionSpec spec = FlatSpec(2);
  spec.index_kind = "hnsw";
  p.Create("c", spec);
  auto atoms = Line(p, "c", 200);
  SearchQuery q = Query({100, 0}, 1);
  auto plain = p.search.Search(q, nullptr);
  REQUIRE(plain.ok());
  CHECK(plain->path == SearchPath::kAnn);
  CHECK(AtomsOf(plain->hits) == std::vector<uint64_t>{atoms[100]});
  q.filter.modality = "m0";  // every third atom: 99 is the nearest
  q.ef = 8;                  // 67 matches x 1/3 <= 64 x ef: the exact scan of them
  auto filtered = p.search.Search(q, nullptr);
  REQUIRE(filtered.ok());
  CHECK(filtered->path == SearchPath::kExactFiltered);
  CHECK(AtomsOf(filtered->hits) == std::vector<uint64_t>{atoms[99]});
  q.exact = true;
  auto exact = p.search.Search(q, nullptr);
  REQUIRE(exact.ok());
  CHECK(exact->path == SearchPath::kExactFiltered);
  CHECK(AtomsOf(exact->hits) == std::vector<uint64_t>{atoms[99]});
}

TEST_CASE("vector search: hybrid search filters candidates and leaves the query atom out") {
  Parts p;
  p.Create("c", FlatSpec(2));
  auto atoms = Line(p, "c", 9);
  auto h = NearestToAtom<HybridSearchQuery>("c", atoms[0], 3);
  h.keep_fraction = 1.0;
  h.report_recall = true;
  auto all = p.search.HybridSearch(h, nullptr);
  REQUIRE(all.ok());
  CHECK(AtomsOf(all->hits) == std::vector<uint64_t>{atoms[1], atoms[2], atoms[3]});
  CHECK(all->candidates == 8);  // every row but the query atom's
  CHECK(all->recall == 1.0);
  h.filter.modality = "m2";  // atoms 2, 5, 8
  auto filtered = p.search.HybridSearch(h, nullptr);
  REQUIRE(filtered.ok());
  CHECK(AtomsOf(filtered->hits) == std::vector<uint64_t>{atoms[2], atoms[5], atoms[8]});
  CHECK(filtered->candidates == 3);
  h.keep_fraction.reset();
  auto bad = p.search.HybridSearch(h, nullptr);
  CHECK(bad.status().code() == Status::Code::kInvalidArgument);
}

TEST_CASE("vector search: errors name the field, hits are charged to the budget") {
  Parts p;
  p.Create("c", FlatSpec(2));
  auto atoms = Line(p, "c", 5);
  SearchQuery q;
  q.collection = "nope";
  q.vector = {1, 0};
  CHECK(p.search.Search(q, nullptr).status().message() == "collection: no collection named 'nope'");
  q.collection = "c";
  q.vector = {1, 0, 0};
  CHECK(p.search.Search(q, nullptr).status().message() ==
        "vector: 3 components but collection 'c' has dimension 2");
  q.vector.clear();
  q.atom_id = 999999;
  auto no_row = p.search.Search(q, nullptr);
  CHECK(no_row.status().code() == Status::Code::kNotFound);
  CHECK(no_row.status().message() == "atom_id: atom 999999 has no embedding in collection 'c'");

  q.atom_id = 0;
  q.vector = {0, 0};
  q.k = 5;
  q.with_canonical_text = true;
  q.with_metadata = true;
  ResponseBudget roomy(1 << 20);
  auto fits = p.search.Search(q, &roomy);
  REQUIRE(fits.ok());
  REQUIRE(fits->hits.size() == 5);
  CHECK(fits->hits[0].metadata == R"({"color":"c0","n":0})");
  ResponseBudget tiny(64);
  auto refused = p.search.Search(q, &tiny);
  CHECK(refused.status().code() == Status::Code::kResourceExhausted);
}

}  // namespace
}  // namespace hartonomous::engine
