#include "storage/tables/relation_table.h"

#include <catch2/catch.hpp>

#include "storage/key_codec.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

Edge MakeEdge(uint64_t source, const std::string& type, uint64_t ordinal, uint64_t target) {
  Edge e;
  e.source = source;
  e.type = type;
  e.ordinal = ordinal;
  e.target = target;
  e.record.set_weight(static_cast<double>(ordinal) + 0.5);
  return e;
}

std::vector<Edge> ScanAll(Txn& txn, RelationTable& rel, Direction d, uint64_t id,
                          const std::string& type = "") {
  std::vector<Edge> out;
  REQUIRE(rel.Scan(txn, d, id, type, "",
                   [&](const Edge& e, std::string_view) {
                     out.push_back(e);
                     return true;
                   })
              .ok());
  return out;
}

}  // namespace

TEST_CASE("relation keys follow the documented layout and parse back") {
  const std::string fwd = RelationTable::ForwardKey(1, "next", 2, 3);
  CHECK(fwd == Be64Key(1) + "next" + std::string(1, '\0') + Be64Key(2) + Be64Key(3));
  const std::string rev = RelationTable::ReverseKey(1, "next", 2, 3);
  CHECK(rev == Be64Key(3) + "next" + std::string(1, '\0') + Be64Key(1) + Be64Key(2));
  for (auto [d, key] :
       {std::pair{Direction::kChildren, fwd}, std::pair{Direction::kParents, rev}}) {
    auto e = RelationTable::ParseKey(d, key);
    REQUIRE(e);
    CHECK(e->source == 1);
    CHECK(e->type == "next");
    CHECK(e->ordinal == 2);
    CHECK(e->target == 3);
  }
  CHECK_FALSE(RelationTable::ParseKey(Direction::kChildren, fwd.substr(0, fwd.size() - 1)));
  CHECK_FALSE(RelationTable::ParseKey(Direction::kChildren,
                                      Be64Key(1) + std::string(1, '\0') + Be64Key(2) + Be64Key(3)));
}

TEST_CASE("edges are stored both ways, ordered by type then ordinal, and removed both ways") {
  testing::TempEnv t;
  RelationTable rel(t.tables());
  WriteTxn txn(t.env(), nullptr);
  REQUIRE(*rel.Put(txn, MakeEdge(1, "next", 5, 2)));
  REQUIRE(*rel.Put(txn, MakeEdge(1, "next", 300, 3)));
  REQUIRE(*rel.Put(txn, MakeEdge(1, "contains", 9, 4)));
  REQUIRE(*rel.Put(txn, MakeEdge(4, "next", 0, 1)));
  CHECK_FALSE(*rel.Put(txn, MakeEdge(1, "next", 5, 2)));  // existing edge: overwritten
  CHECK(*txn.Count(t.tables().atom_relations) == 4);
  CHECK(*txn.Count(t.tables().atom_relations_reverse) == 4);

  const auto out = ScanAll(txn, rel, Direction::kChildren, 1);
  REQUIRE(out.size() == 3);
  CHECK(out[0].type == "contains");
  CHECK(out[1].ordinal == 5);
  CHECK(out[2].ordinal == 300);  // big-endian ordinals sort numerically
  CHECK(out[2].record.weight() == 300.5);
  CHECK(ScanAll(txn, rel, Direction::kChildren, 1, "next").size() == 2);
  const auto in = ScanAll(txn, rel, Direction::kParents, 1);
  REQUIRE(in.size() == 1);
  CHECK(in[0].source == 4);
  CHECK(in[0].record.weight() == 0.5);  // parents carry the forward record

  CHECK(*rel.NextOrdinal(txn, 1, "next") == 301);
  CHECK(*rel.NextOrdinal(txn, 1, "likes") == 0);
  CHECK(*rel.NextOrdinal(txn, 4, "next") == 1);

  // Paging resumes after the given key suffix.
  std::string first_suffix;
  REQUIRE(rel.Scan(txn, Direction::kChildren, 1, "", "",
                   [&](const Edge&, std::string_view s) {
                     first_suffix = std::string(s);
                     return false;
                   })
              .ok());
  std::vector<Edge> rest;
  REQUIRE(rel.Scan(txn, Direction::kChildren, 1, "", first_suffix,
                   [&](const Edge& e, std::string_view) {
                     rest.push_back(e);
                     return true;
                   })
              .ok());
  CHECK(rest.size() == 2);

  CHECK(*rel.RemoveAllOf(txn, 1) == 4);  // three out, one in
  CHECK(*txn.Count(t.tables().atom_relations) == 0);
  CHECK(*txn.Count(t.tables().atom_relations_reverse) == 0);
}

TEST_CASE("releasing a container cascades through 'contains' edges") {
  testing::TempEnv t;
  AtomTable atoms(t.tables());
  RelationTable rel(t.tables());
  WriteTxn txn(t.env(), nullptr);
  auto make = [&](uint64_t id, int64_t refs) {
    AtomRecord a;
    a.set_atom_id(id);
    const auto hash = Sha256("atom" + std::to_string(id));
    a.set_content_hash(std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
    a.set_modality("text");
    a.set_reference_count(refs);
    a.set_is_active(true);
    REQUIRE(atoms.Insert(txn, a, "").ok());
  };
  make(1, 1);  // root
  make(2, 1);  // held by root only
  make(3, 2);  // held by 2 and by someone else
  make(4, 1);  // held by 2
  REQUIRE(rel.Put(txn, MakeEdge(1, "contains", 0, 2)).ok());
  REQUIRE(rel.Put(txn, MakeEdge(2, "contains", 0, 3)).ok());
  REQUIRE(rel.Put(txn, MakeEdge(2, "contains", 1, 4)).ok());
  REQUIRE(rel.Put(txn, MakeEdge(2, "next", 0, 4)).ok());
  AtomRecord after;
  uint64_t deactivated = 0;
  REQUIRE(ReleaseReference(txn, atoms, rel, 1, false, 0, &after, &deactivated).ok());
  CHECK_FALSE(after.is_active());
  CHECK(deactivated == 3);  // 1, 2, 4
  CHECK((*atoms.Get(txn, 3))->is_active());
  CHECK((*atoms.Get(txn, 3))->reference_count() == 1);
  CHECK_FALSE((*atoms.Get(txn, 4))->is_active());
  // 'contains' edges of inactive atoms are gone; other types stay until purge.
  CHECK(ScanAll(txn, rel, Direction::kChildren, 2, "contains").empty());
  CHECK(ScanAll(txn, rel, Direction::kChildren, 2, "next").size() == 1);
  CHECK(ReleaseReference(txn, atoms, rel, 1, false, 0, nullptr, nullptr).code() ==
        Status::Code::kFailedPrecondition);
  CHECK(ReleaseReference(txn, atoms, rel, 99, false, 0, nullptr, nullptr).code() ==
        Status::Code::kNotFound);
}
