// TensorStore's abandoned imports over a real LMDB environment: an atom an
// import created is deleted when the last import in progress that
// references it is abandoned, whichever order overlapping imports of the
// same bytes are abandoned in; an atom something else still references
// stays, active.
#include "server/engine/models/tensor_store.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "storage/tables/atom_table.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

struct Fixture {
  testing::TempEnv t;
  storage::WriteBatcher writer{t.env()};
  TensorStore store{t.env(), t.tables(), writer};

  // The atom as stored now, or nullopt when it is gone.
  std::optional<storage::AtomRecord> Atom(uint64_t id) {
    storage::ReadTxn txn(t.env());
    REQUIRE(txn.status().ok());
    auto atom = storage::AtomTable(t.tables()).Get(txn, id);
    REQUIRE(atom.ok());
    return *atom;
  }
  // Stages piece as batch 0 of a new import; sets *import_id.
  StagedAtom StageNew(const StagePiece& piece, uint64_t* import_id) {
    *import_id = 0;
    auto staged = store.Stage(import_id, 0, {piece});
    INFO(staged.status().ToString());
    REQUIRE(staged.ok());
    REQUIRE(staged->size() == 1);
    return staged->front();
  }
};

// A real piece: the first 32 KiB of the GPL-3 text Debian ships.
StagePiece Piece() {
  std::ifstream in("/usr/share/common-licenses/GPL-3", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(text.size() > 32 * 1024);
  StagePiece piece;
  piece.content = text.substr(0, 32 * 1024);
  piece.hash = Sha256(piece.content);
  piece.subtype = "u8";
  return piece;
}

}  // namespace

TEST_CASE("tensor store: overlapping abandoned imports leave nothing, the creator abandoned first",
          "[models][tensor_store]") {
  Fixture f;
  uint64_t a = 0, b = 0;
  const StagedAtom first = f.StageNew(Piece(), &a);
  const StagedAtom second = f.StageNew(Piece(), &b);
  REQUIRE(first.created);
  REQUIRE_FALSE(second.created);
  REQUIRE(second.atom_id == first.atom_id);
  REQUIRE(f.Atom(first.atom_id)->reference_count() == 2);

  // The creator is abandoned while the other import still holds the atom.
  auto abandoned = f.store.Abandon(a);
  REQUIRE(abandoned.ok());
  CHECK(*abandoned == 0);
  auto held = f.Atom(first.atom_id);
  REQUIRE(held);
  CHECK(held->is_active());
  CHECK(held->reference_count() == 1);

  // The last import holding it is abandoned: the atom goes, not left
  // inactive for a later purge.
  abandoned = f.store.Abandon(b);
  REQUIRE(abandoned.ok());
  CHECK(*abandoned == 1);
  CHECK_FALSE(f.Atom(first.atom_id));
}

TEST_CASE("tensor store: overlapping abandoned imports leave nothing, the creator abandoned last",
          "[models][tensor_store]") {
  Fixture f;
  uint64_t a = 0, b = 0;
  const StagedAtom first = f.StageNew(Piece(), &a);
  f.StageNew(Piece(), &b);
  auto abandoned = f.store.Abandon(b);
  REQUIRE(abandoned.ok());
  CHECK(*abandoned == 0);
  REQUIRE(f.Atom(first.atom_id));
  CHECK(f.Atom(first.atom_id)->reference_count() == 1);
  abandoned = f.store.Abandon(a);
  REQUIRE(abandoned.ok());
  CHECK(*abandoned == 1);
  CHECK_FALSE(f.Atom(first.atom_id));
}

TEST_CASE("tensor store: an abandoned import's atom that something else references stays",
          "[models][tensor_store]") {
  Fixture f;
  uint64_t a = 0;
  const StagedAtom staged = f.StageNew(Piece(), &a);
  // One more reference, as a committed model's row would hold.
  REQUIRE(f.writer
              .Write([&](storage::WriteTxn& txn) -> Status {
                storage::AtomTable atoms(f.t.tables());
                HT_RETURN_IF_ERROR(TensorStore::ReferenceOne(txn, atoms, staged.atom_id, 1));
                return atoms.FlushCounters(txn);
              })
              .ok());
  auto abandoned = f.store.Abandon(a);
  REQUIRE(abandoned.ok());
  CHECK(*abandoned == 0);
  auto kept = f.Atom(staged.atom_id);
  REQUIRE(kept);
  CHECK(kept->is_active());
  CHECK(kept->reference_count() == 1);
}
