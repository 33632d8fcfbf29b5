// EmbeddingTable over a real LMDB environment: rows and their write-order
// entries stay in step through put, replace and every kind of removal;
// absent rows, corrupt rows and dangling entries.
#include "storage/tables/embedding_table.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

EmbeddingRecord Row(uint64_t embedding_id, uint64_t atom_id, uint64_t collection_id,
                    const std::string& type = "text", uint64_t model_id = 1) {
  EmbeddingRecord r;
  r.set_embedding_id(embedding_id);
  r.set_atom_id(atom_id);
  r.set_collection_id(collection_id);
  r.set_embedding_type(type);
  r.set_model_id(model_id);
  r.set_dimension(2);
  r.set_vector(std::string(8, '\1'));
  r.set_metadata(R"({"e":)" + std::to_string(embedding_id) + "}");
  return r;
}

void PutCommitted(testing::TempEnv& t, const std::vector<EmbeddingRecord>& rows) {
  WriteTxn txn(t.env(), nullptr);
  EmbeddingTable table(t.tables());
  for (const auto& row : rows) REQUIRE(table.Put(txn, row).ok());
  REQUIRE(txn.Commit().ok());
}

// (embedding id, atom id) of a collection's entries after `after`.
std::vector<std::pair<uint64_t, uint64_t>> Entries(testing::TempEnv& t, uint64_t collection_id,
                                                   uint64_t after = 0) {
  ReadTxn txn(t.env());
  std::vector<std::pair<uint64_t, uint64_t>> out;
  Status s = EmbeddingTable(t.tables()).Scan(txn, collection_id, after, [&](const EmbeddingRef& r) {
    out.emplace_back(r.embedding_id(), r.atom_id());
    return Status::Ok();
  });
  REQUIRE(s.ok());
  return out;
}

using Entry = std::pair<uint64_t, uint64_t>;

// The first row (atom 7's) becomes unparseable (cut inside a tag); the
// second (atom 8's) disappears behind the table's back.
void DamageFirstTwoRows(testing::TempEnv& t) {
  WriteTxn txn(t.env(), nullptr);
  auto cursor = txn.OpenCursor(t.tables().atom_embeddings);
  REQUIRE(*cursor->First());
  const std::string key7(cursor->key());
  REQUIRE(*cursor->Next());
  const std::string key8(cursor->key());
  cursor.reset();
  REQUIRE(txn.Put(t.tables().atom_embeddings, key7, "\xff\xff\xff").ok());
  REQUIRE(*txn.Del(t.tables().atom_embeddings, key8));
  REQUIRE(txn.Commit().ok());
}

}  // namespace

TEST_CASE("embedding table: rows round trip, by atom and by collection in write order") {
  testing::TempEnv t;
  EmbeddingTable table(t.tables());
  // Atom 7 has a row in collection 1 (text/1) and in collection 2 (image/2).
  PutCommitted(t, {Row(3, 9, 1), Row(1, 7, 1), Row(2, 7, 2, "image", 2), Row(4, 8, 1)});
  ReadTxn txn(t.env());
  auto found = table.Find(txn, 7, "image", 2);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->embedding_id() == 2);
  CHECK((*found)->metadata() == R"({"e":2})");
  auto of_atom = table.OfAtom(txn, 7);
  REQUIRE(of_atom.ok());
  REQUIRE(of_atom->size() == 2);
  auto atom = table.AtomOf(txn, 1, 3);
  REQUIRE(atom.ok());
  REQUIRE(atom->has_value());
  CHECK(**atom == 9);

  CHECK(Entries(t, 1) == std::vector<Entry>{{1, 7}, {3, 9}, {4, 8}});
  CHECK(Entries(t, 1, 1) == std::vector<Entry>{{3, 9}, {4, 8}});
  CHECK(Entries(t, 1, 4).empty());
  CHECK(Entries(t, 2) == std::vector<Entry>{{2, 7}});
  std::vector<std::string> read;
  REQUIRE(table
              .Scan(txn, 1, 2,
                    [&](const EmbeddingRef& ref) -> Status {
                      HT_ASSIGN_OR_RETURN(EmbeddingRecord row, table.Read(txn, ref));
                      CHECK(row.embedding_id() == ref.embedding_id());
                      read.push_back(row.metadata());
                      return Status::Ok();
                    })
              .ok());
  CHECK(read == std::vector<std::string>{R"({"e":3})", R"({"e":4})"});
}

TEST_CASE("embedding table: absent rows and entries are nullopt") {
  testing::TempEnv t;
  EmbeddingTable table(t.tables());
  PutCommitted(t, {Row(1, 7, 1)});
  ReadTxn txn(t.env());
  auto other_type = table.Find(txn, 7, "image", 1);
  REQUIRE(other_type.ok());
  CHECK_FALSE(other_type->has_value());
  auto other_model = table.Find(txn, 7, "text", 2);
  REQUIRE(other_model.ok());
  CHECK_FALSE(other_model->has_value());
  auto other_atom = table.OfAtom(txn, 8);
  REQUIRE(other_atom.ok());
  CHECK(other_atom->empty());
  auto gone = table.AtomOf(txn, 1, 2);
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
}

TEST_CASE("embedding table: a put replaces the atom's row and its entry") {
  testing::TempEnv t;
  EmbeddingTable table(t.tables());
  PutCommitted(t, {Row(1, 7, 1), Row(2, 8, 1)});
  {
    WriteTxn txn(t.env(), nullptr);
    auto replaced = table.Put(txn, Row(3, 7, 1));
    REQUIRE(replaced.ok());
    REQUIRE(replaced->has_value());
    CHECK((*replaced)->embedding_id() == 1);
    auto fresh = table.Put(txn, Row(4, 9, 1));
    REQUIRE(fresh.ok());
    CHECK_FALSE(fresh->has_value());
    REQUIRE(txn.Commit().ok());
  }
  CHECK(Entries(t, 1) == std::vector<Entry>{{2, 8}, {3, 7}, {4, 9}});
  ReadTxn txn(t.env());
  CHECK((*table.Find(txn, 7, "text", 1))->embedding_id() == 3);
  CHECK_FALSE(table.AtomOf(txn, 1, 1)->has_value());
}

TEST_CASE("embedding table: removals keep rows and entries in step") {
  testing::TempEnv t;
  EmbeddingTable table(t.tables());
  PutCommitted(t, {Row(1, 7, 1), Row(2, 8, 1), Row(3, 7, 2, "image", 2), Row(4, 9, 2, "image", 2),
                   Row(5, 9, 1)});
  SECTION("one row") {
    WriteTxn txn(t.env(), nullptr);
    auto removed = table.Remove(txn, Row(2, 8, 1));
    REQUIRE(removed.ok());
    CHECK(*removed);
    auto again = table.Remove(txn, Row(2, 8, 1));
    REQUIRE(again.ok());
    CHECK_FALSE(*again);
    REQUIRE(txn.Commit().ok());
    CHECK(Entries(t, 1) == std::vector<Entry>{{1, 7}, {5, 9}});
    ReadTxn read(t.env());
    CHECK_FALSE(table.Find(read, 8, "text", 1)->has_value());
  }
  SECTION("every row of an atom, in every collection") {
    WriteTxn txn(t.env(), nullptr);
    auto rows = table.RemoveAtom(txn, 7);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 2);
    REQUIRE(txn.Commit().ok());
    CHECK(Entries(t, 1) == std::vector<Entry>{{2, 8}, {5, 9}});
    CHECK(Entries(t, 2) == std::vector<Entry>{{4, 9}});
    ReadTxn read(t.env());
    CHECK(table.OfAtom(read, 7)->empty());
    CHECK(table.OfAtom(read, 9)->size() == 2);
  }
  SECTION("every row of a collection") {
    WriteTxn txn(t.env(), nullptr);
    auto n = table.RemoveCollection(txn, 1);
    REQUIRE(n.ok());
    CHECK(*n == 3);
    REQUIRE(txn.Commit().ok());
    CHECK(Entries(t, 1).empty());
    CHECK(Entries(t, 2) == std::vector<Entry>{{3, 7}, {4, 9}});
    ReadTxn read(t.env());
    CHECK(table.OfAtom(read, 8)->empty());
    auto left = table.OfAtom(read, 9);
    REQUIRE(left->size() == 1);
    CHECK((*left)[0].collection_id() == 2);
  }
}

TEST_CASE("embedding table: ids come from the embedding_id sequence") {
  testing::TempEnv t;
  EmbeddingTable table(t.tables());
  uint64_t first = 0;
  {
    WriteTxn txn(t.env(), nullptr);
    Sequence ids = table.Ids(txn);
    first = *ids.Next();
    CHECK(*ids.Next() == first + 1);
    REQUIRE(ids.Flush().ok());
    REQUIRE(txn.Commit().ok());
  }
  WriteTxn txn(t.env(), nullptr);
  Sequence ids = table.Ids(txn);
  CHECK(*ids.Next() == first + 2);
}

TEST_CASE("embedding table: a corrupt row or a dangling entry is DATA_LOSS naming table and key") {
  testing::TempEnv t;
  EmbeddingTable table(t.tables());
  PutCommitted(t, {Row(1, 7, 1), Row(2, 8, 1)});
  DamageFirstTwoRows(t);
  ReadTxn txn(t.env());
  auto corrupt = table.Find(txn, 7, "text", 1);
  CHECK(corrupt.status().code() == Status::Code::kDataLoss);
  CHECK(corrupt.status().message() ==
        "atom_embeddings: record atom 7 type 'text' model 1 is corrupt");
  CHECK(table.OfAtom(txn, 7).status().code() == Status::Code::kDataLoss);
  std::vector<Status> reads;
  REQUIRE(table
              .Scan(txn, 1, 0,
                    [&](const EmbeddingRef& ref) {
                      reads.push_back(table.Read(txn, ref).status());
                      return Status::Ok();
                    })
              .ok());
  REQUIRE(reads.size() == 2);
  CHECK(reads[0].code() == Status::Code::kDataLoss);
  CHECK(reads[0].message() == "atom_embeddings: record atom 7 type 'text' model 1 is corrupt");
  CHECK(reads[1].code() == Status::Code::kDataLoss);
  CHECK(reads[1].message() == "embeddings_by_seq: embedding 2 has no row");
  // A failing visit stops the scan with its status.
  int visits = 0;
  Status stopped = table.Scan(txn, 1, 0, [&](const EmbeddingRef& ref) {
    ++visits;
    return table.Read(txn, ref).status();
  });
  CHECK(stopped.code() == Status::Code::kDataLoss);
  CHECK(visits == 1);
}

TEST_CASE("embedding table: vectors read together equal those read one by one") {
  testing::TempEnv t;
  EmbeddingTable table(t.tables());
  std::vector<EmbeddingRecord> rows;
  for (uint64_t id = 1; id <= 40; ++id) {
    EmbeddingRecord row = Row(id, 100 + id, id % 2 + 1);
    row.set_vector(std::string(4 * id, static_cast<char>(id)));  // a size and bytes per row
    rows.push_back(row);
  }
  PutCommitted(t, rows);
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(*table.Remove(txn, rows[8]));  // embedding 9 (collection 2) is gone
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  // Collection 2 holds the odd ids; 9 was removed, 4 and 41 are not its rows.
  const std::vector<uint64_t> ids = {7, 9, 1, 4, 39, 41, 7, 3};
  std::vector<std::optional<std::string_view>> together;
  REQUIRE(table.VectorBytes(txn, 2, ids, &together).ok());
  REQUIRE(together.size() == ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    CAPTURE(ids[i]);
    auto alone = table.VectorBytes(txn, 2, ids[i]);
    REQUIRE(alone.ok());
    CHECK(together[i] == *alone);
    const bool stored = ids[i] % 2 == 1 && ids[i] != 9 && ids[i] <= 40;
    CHECK(together[i].has_value() == stored);
    if (stored) CHECK(*together[i] == std::string(4 * ids[i], static_cast<char>(ids[i])));
  }
}

TEST_CASE("embedding table: vectors read together stop at a dangling entry or a corrupt row") {
  testing::TempEnv t;
  EmbeddingTable table(t.tables());
  PutCommitted(t, {Row(1, 7, 1), Row(2, 8, 1), Row(3, 9, 1)});
  DamageFirstTwoRows(t);
  ReadTxn txn(t.env());
  std::vector<std::optional<std::string_view>> out;
  Status dangling = table.VectorBytes(txn, 1, {3, 2, 1}, &out);
  CHECK(dangling.code() == Status::Code::kDataLoss);
  CHECK(dangling.message() == "embeddings_by_seq: embedding 2 has no row");
  Status corrupt = table.VectorBytes(txn, 1, {3, 1}, &out);
  CHECK(corrupt.code() == Status::Code::kDataLoss);
  CHECK(corrupt.message() == "atom_embeddings: record atom 7 type 'text' model 1 is corrupt");
  REQUIRE(table.VectorBytes(txn, 1, {3}, &out).ok());
  CHECK(out.at(0) == std::string(8, '\1'));
}
