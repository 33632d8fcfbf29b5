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

namespace {

void InsertAtom(AtomTable& atoms, WriteTxn& txn, uint64_t id, int64_t refs) {
  AtomRecord a;
  a.set_atom_id(id);
  const auto hash = Sha256("counted" + std::to_string(id));
  a.set_content_hash(std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
  a.set_modality("text");
  a.set_reference_count(refs);
  a.set_is_active(true);
  REQUIRE(atoms.Insert(txn, a, "content " + std::to_string(id)).ok());
}

int64_t Count(WriteTxn& txn, AtomTable& atoms, uint64_t id) {
  auto atom = atoms.Get(txn, id);
  REQUIRE(atom.ok());
  REQUIRE(atom->has_value());
  return (*atom)->is_active() ? (*atom)->reference_count() : 0;
}

// The state indexes agree with the record (refcount entry at its count,
// inactive entry when inactive).
void CheckIndexed(WriteTxn& txn, AtomTable& atoms, uint64_t id) {
  auto atom = atoms.Get(txn, id);
  REQUIRE(atom.ok());
  REQUIRE(atom->has_value());
  auto indexed = atoms.StateIndexed(txn, **atom);
  REQUIRE(indexed.ok());
  CHECK(*indexed);
}

int64_t TextReferences(WriteTxn& txn, AtomTable& atoms) {
  REQUIRE(atoms.FlushCounters(txn).ok());
  auto counters = atoms.ReadCounters(txn);
  REQUIRE(counters.ok());
  for (const auto& [modality, counter] : *counters) {
    if (modality == "text") return static_cast<int64_t>(counter.total_references());
  }
  return 0;
}

}  // namespace

TEST_CASE("counted references: n at once are exact and a release to zero deactivates") {
  testing::TempEnv t;
  AtomTable atoms(t.tables());
  RelationTable rel(t.tables());
  WriteTxn txn(t.env(), nullptr);
  InsertAtom(atoms, txn, 1, 1);
  REQUIRE(AcquireReferences(txn, atoms, 1, 4, 10).ok());
  CHECK(Count(txn, atoms, 1) == 5);
  CheckIndexed(txn, atoms, 1);
  CHECK(TextReferences(txn, atoms) == 5);
  // With the record the caller read.
  auto before = atoms.Get(txn, 1);
  REQUIRE(before.ok());
  AtomRecord after;
  REQUIRE(AcquireReferences(txn, atoms, 1, 2, 11, &**before, &after).ok());
  CHECK(after.reference_count() == 7);
  CHECK(after.updated_at_us() == 11);
  CHECK(Count(txn, atoms, 1) == 7);
  CheckIndexed(txn, atoms, 1);

  REQUIRE(ReleaseReferences(txn, atoms, rel, 1, 5, 12, &after, nullptr).ok());
  CHECK(after.reference_count() == 2);
  CHECK(after.is_active());
  CheckIndexed(txn, atoms, 1);
  CHECK(TextReferences(txn, atoms) == 2);
  // More than it holds, or none: refused, nothing changed.
  CHECK(ReleaseReferences(txn, atoms, rel, 1, 3, 13, nullptr, nullptr).code() ==
        Status::Code::kFailedPrecondition);
  CHECK(ReleaseReferences(txn, atoms, rel, 1, 0, 13, nullptr, nullptr).code() ==
        Status::Code::kInvalidArgument);
  CHECK(AcquireReferences(txn, atoms, 1, 0, 13).code() == Status::Code::kInvalidArgument);
  CHECK(Count(txn, atoms, 1) == 2);
  // To zero: inactive, listed among the inactive atoms, counted nowhere.
  uint64_t deactivated = 0;
  REQUIRE(ReleaseReferences(txn, atoms, rel, 1, 2, 14, &after, &deactivated).ok());
  CHECK_FALSE(after.is_active());
  CHECK(after.reference_count() == 0);
  CHECK(deactivated == 1);
  CheckIndexed(txn, atoms, 1);
  CHECK(*atoms.InactiveIds(txn, 10) == std::vector<uint64_t>{1});
  CHECK(TextReferences(txn, atoms) == 0);
  CHECK(ReleaseReferences(txn, atoms, rel, 1, 1, 15, nullptr, nullptr).code() ==
        Status::Code::kFailedPrecondition);
  // An inactive atom comes back with exactly n.
  REQUIRE(AcquireReferences(txn, atoms, 1, 3, 16).ok());
  CHECK(Count(txn, atoms, 1) == 3);
  CheckIndexed(txn, atoms, 1);
  CHECK(atoms.InactiveIds(txn, 10)->empty());
  CHECK(AcquireReferences(txn, atoms, 99, 2, 17).code() == Status::Code::kNotFound);
  CHECK(ReleaseReferences(txn, atoms, rel, 99, 2, 17, nullptr, nullptr).code() ==
        Status::Code::kNotFound);
}

TEST_CASE("counted releases keep the references of 'contains' edges and cascade at zero") {
  testing::TempEnv t;
  AtomTable atoms(t.tables());
  RelationTable rel(t.tables());
  WriteTxn txn(t.env(), nullptr);
  InsertAtom(atoms, txn, 1, 2);  // a container with two references
  InsertAtom(atoms, txn, 2, 3);  // held by 1's edge and by two callers
  REQUIRE(rel.Put(txn, MakeEdge(1, "contains", 0, 2)).ok());
  // Releasing all three would take the count below the edge.
  const Status refused = ReleaseReferences(txn, atoms, rel, 2, 3, 1, nullptr, nullptr);
  CHECK(refused.code() == Status::Code::kFailedPrecondition);
  CHECK(refused.message().find("'contains' edge") != std::string::npos);
  CHECK(Count(txn, atoms, 2) == 3);
  REQUIRE(ReleaseReferences(txn, atoms, rel, 2, 2, 1, nullptr, nullptr).ok());
  CHECK(Count(txn, atoms, 2) == 1);
  CHECK(ReleaseReferences(txn, atoms, rel, 2, 1, 1, nullptr, nullptr).code() ==
        Status::Code::kFailedPrecondition);
  // The container's last two references at once: it and what only it held go.
  uint64_t deactivated = 0;
  REQUIRE(ReleaseReferences(txn, atoms, rel, 1, 2, 2, nullptr, &deactivated).ok());
  CHECK(deactivated == 2);
  CHECK(Count(txn, atoms, 1) == 0);
  CHECK(Count(txn, atoms, 2) == 0);
  CHECK(ScanAll(txn, rel, Direction::kChildren, 1, "contains").empty());
  CheckIndexed(txn, atoms, 1);
  CheckIndexed(txn, atoms, 2);
}
