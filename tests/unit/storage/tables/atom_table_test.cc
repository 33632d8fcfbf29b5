#include "storage/tables/atom_table.h"

#include <catch2/catch.hpp>

#include "storage/key_codec.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

AtomRecord MakeAtom(uint64_t id, const std::string& content, const std::string& modality) {
  AtomRecord atom;
  atom.set_atom_id(id);
  const auto hash = Sha256(content);
  atom.set_content_hash(std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
  atom.set_modality(modality);
  atom.set_reference_count(1);
  atom.set_is_active(true);
  AtomTable::SetContentShape(&atom, content.size());
  return atom;
}

}  // namespace

TEST_CASE("insert stores record, chunked content and indexes; remove cascades") {
  testing::TempEnv t;
  AtomTable atoms(t.tables());
  const std::string content((size_t{1} << 20) * 2 + 5, 'c');  // three chunks
  AtomRecord atom = MakeAtom(7, content, "binary");
  CHECK(atom.chunk_count() == 3);
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(atoms.Insert(txn, atom, content).ok());
    // A row owned by the atom, as a later feature would write it.
    std::string key = Be64Key(7);
    key += "embedding";
    REQUIRE(txn.Put(t.tables().atom_embeddings, key, "vector").ok());
    REQUIRE(atoms.FlushCounters(txn).ok());
    REQUIRE(txn.Commit().ok());
  }
  {
    ReadTxn txn(t.env());
    auto found = atoms.FindByHash(txn, Sha256(content));
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK(**found == 7);
    std::string back;
    REQUIRE(atoms.ReadContent(txn, atom, &back).ok());
    CHECK(back == content);
    auto counters = atoms.ReadCounters(txn);
    REQUIRE(counters->size() == 1);
    CHECK((*counters)[0].first == "binary");
    CHECK((*counters)[0].second.unique_bytes() == content.size());
  }
  {
    WriteTxn txn(t.env(), nullptr);
    AtomRecord inactive = atom;
    inactive.set_is_active(false);
    inactive.set_reference_count(0);
    REQUIRE(atoms.Update(txn, atom, inactive).ok());
    auto owned = atoms.Remove(txn, inactive);
    REQUIRE(owned.ok());
    CHECK(*owned == 1);
    REQUIRE(atoms.FlushCounters(txn).ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  for (MDB_dbi dbi : {t.tables().atoms, t.tables().atom_hash, t.tables().atom_payload,
                      t.tables().atoms_by_refcount, t.tables().atoms_inactive,
                      t.tables().atom_embeddings, t.tables().dedup_counters}) {
    CHECK(*txn.Count(dbi) == 0);
  }
}

TEST_CASE("reference count index orders atoms and follows updates") {
  testing::TempEnv t;
  AtomTable atoms(t.tables());
  WriteTxn txn(t.env(), nullptr);
  for (uint64_t id = 1; id <= 5; ++id) {
    REQUIRE(atoms
                .Insert(txn, MakeAtom(id, "content " + std::to_string(id), "text"),
                        "content " + std::to_string(id))
                .ok());
  }
  auto before = atoms.Get(txn, 3);
  AtomRecord after = **before;
  after.set_reference_count(9);
  REQUIRE(atoms.Update(txn, **before, after).ok());
  auto top = atoms.TopByReferences(txn, 2);
  REQUIRE(top->size() == 2);
  CHECK((*top)[0].atom_id() == 3);
  CHECK((*top)[0].reference_count() == 9);
  CHECK(*txn.Count(t.tables().atoms_by_refcount) == 5);
  REQUIRE(atoms.FlushCounters(txn).ok());
  auto counters = atoms.ReadCounters(txn);
  CHECK((*counters)[0].second.unique_atoms() == 5);
  CHECK((*counters)[0].second.total_references() == 13);
  // A duplicate hash is refused by the unique index.
  CHECK_FALSE(atoms.Insert(txn, MakeAtom(6, "content 1", "text"), "content 1").ok());
}
