// EmbeddingWriter: one row write for every path (AddEmbeddings and ingest
// with an embedding attachment), rows replaced per atom, errors naming the
// field, and index changes applied only when the transaction commits.
#include "server/engine/vectors/embedding_writer.h"

#include <catch2/catch.hpp>

#include "server/engine/dedup/dedup_matcher.h"
#include "server/engine/dedup/policy_engine.h"
#include "server/engine/vectors/embedding_engine.h"
#include "storage/tables/embedding_table.h"
#include "tests/unit/engine/vectors/collaborators_fixture.h"

namespace hartonomous::engine {
namespace {

using namespace testing_parts;

storage::EmbeddingRecord StoredRow(Parts& p, uint64_t atom_id) {
  storage::ReadTxn txn(p.t.env());
  auto rows = storage::EmbeddingTable(p.t.tables()).OfAtom(txn, atom_id);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  return rows->front();
}

TEST_CASE("the embedding row write keeps uses_max_dimension_padding") {
  Parts p;
  auto atoms = p.MakeAtoms(5);
  auto c = p.Create("c", FlatSpec(3));
  auto input = [&](size_t i, bool padded) {
    return EmbeddingInput{atoms[i], {1, 2, float(i)}, R"({"i":)" + std::to_string(i) + "}", padded};
  };
  // AddEmbeddings' path.
  REQUIRE(p.rows.Add("c", std::nullopt, {input(0, true), input(1, false)}).ok());
  // The ingest attachment's path (EmbeddingEngine::PutEmbeddingInTxn).
  REQUIRE(p.writer
              .Write([&](storage::WriteTxn& txn) {
                return p.rows.PutInTxn(txn, "embedding", "c", input(2, true));
              })
              .ok());
  REQUIRE(p.writer
              .Write([&](storage::WriteTxn& txn) {
                return p.rows.PutInTxn(txn, "embedding", "c", input(3, false));
              })
              .ok());
  // The row write both use, called directly.
  REQUIRE(
      p.writer
          .Write([&](storage::WriteTxn& txn) -> Status {
            storage::Sequence ids = storage::EmbeddingTable(p.t.tables()).Ids(txn);
            std::vector<EmbeddingWriter::Change> changes;
            HT_RETURN_IF_ERROR(
                p.rows.WriteRow(txn, ids, c->record, "e", input(4, true), 1234, &changes).status());
            CHECK(changes.size() == 1);
            return ids.Flush();
          })
          .ok());
  const bool padded[] = {true, false, true, false, true};
  for (size_t i = 0; i < 5; ++i) {
    CAPTURE(i);
    storage::EmbeddingRecord row = StoredRow(p, atoms[i]);
    CHECK(row.uses_max_dimension_padding() == padded[i]);
    CHECK(row.collection_id() == c->record.collection_id());
    CHECK(row.embedding_type() == "text");
    CHECK(row.model_id() == 1);
    CHECK(row.dimension() == 3);
    CHECK(storage::EmbeddingTable::VectorOf(row) == std::vector<float>{1, 2, float(i)});
    CHECK(row.metadata() == R"({"i":)" + std::to_string(i) + "}");
    CHECK(row.created_at_us() > 0);
  }
  // Rows written through PutInTxn and AddEmbeddings reached the index.
  CHECK(c->CurrentIndex()->size() == 4);
}

TEST_CASE("an atom ingested with an embedding attachment gets its row through the same write") {
  testing::TempEnv t{size_t{64} << 20};
  storage::WriteBatcher writer{t.env()};
  AtomEngine atoms{t.env(), t.tables(), writer, std::string(32, 'k')};
  PolicyEngine policies{t.env(), t.tables(), writer, std::string(32, 'k')};
  auto embeddings = EmbeddingEngine::Open(t.env(), t.tables(), writer, QuietOptions());
  REQUIRE(embeddings.ok());
  DedupMatcher matcher(t.env(), t.tables(), policies, **embeddings);
  atoms.SetDedupMatcher(&matcher);
  REQUIRE((*embeddings)->CreateCollection("c", FlatSpec(3)).ok());

  AtomInput in;
  in.content = "attached";
  in.modality = "text";
  in.embedding = EmbeddingAttachment{"c", {3, 2, 1}, R"({"src":"ingest"})"};
  auto ingested = atoms.Ingest({in});
  REQUIRE(ingested.ok());
  const uint64_t atom_id = ingested->atoms[0].atom_id;
  auto rows = (*embeddings)->GetEmbeddings(atom_id, "c");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  // An attachment is never sent padded (AtomEmbedding has no such field).
  CHECK_FALSE((*rows)[0].uses_max_dimension_padding());
  CHECK((*rows)[0].metadata() == R"({"src":"ingest"})");
  CHECK((*rows)[0].dimension() == 3);
  CHECK((*embeddings)->GetCollection("c")->vector_count == 1);
}

TEST_CASE("embedding rows reach the index only when their transaction commits") {
  Parts p;
  auto atoms = p.MakeAtoms(2);
  auto c = p.Create("c", FlatSpec(2));
  Status aborted = p.writer.Write([&](storage::WriteTxn& txn) -> Status {
    HT_RETURN_IF_ERROR(p.rows.PutInTxn(txn, "embedding", "c", {atoms[0], {1, 1}, "", false}));
    return Status::Aborted("the rest of the ingest failed");
  });
  CHECK(aborted.code() == Status::Code::kAborted);
  CHECK(c->CurrentIndex()->size() == 0);
  {
    storage::ReadTxn txn(p.t.env());
    CHECK(storage::EmbeddingTable(p.t.tables()).OfAtom(txn, atoms[0])->empty());
  }
  REQUIRE(p.writer
              .Write([&](storage::WriteTxn& txn) {
                return p.rows.PutInTxn(txn, "embedding", "c", {atoms[0], {1, 1}, "", false});
              })
              .ok());
  CHECK(c->CurrentIndex()->size() == 1);
  CHECK(c->CurrentSpace()->fine().size() == 1);
  CHECK(c->changes.load() == 1);
}

TEST_CASE("a new row for an atom replaces its previous one, in the table and the index") {
  Parts p;
  auto atoms = p.MakeAtoms(2);
  auto c = p.Create("c", FlatSpec(2));
  auto first = p.rows.Add("c", std::nullopt, {{atoms[0], {1, 0}, "", false}});
  REQUIRE(first.ok());
  CHECK(first->replaced == 0);
  CHECK_FALSE(first->collection_created);
  auto second =
      p.rows.Add("c", std::nullopt, {{atoms[0], {0, 1}, "", false}, {atoms[1], {1, 1}, "", false}});
  REQUIRE(second.ok());
  CHECK(second->replaced == 1);
  REQUIRE(second->embedding_ids.size() == 2);
  CHECK(second->embedding_ids[0] > first->embedding_ids[0]);
  auto index = c->CurrentIndex();
  CHECK(index->size() == 2);
  CHECK_FALSE(index->Contains(first->embedding_ids[0]));
  CHECK(index->Contains(second->embedding_ids[0]));
  CHECK(StoredRow(p, atoms[0]).embedding_id() == second->embedding_ids[0]);
  CHECK(c->applied_seq == second->embedding_ids[1]);
}

TEST_CASE("embedding writes name the field of a bad input and store nothing") {
  Parts p;
  auto atoms = p.MakeAtoms(2);
  p.Create("c", FlatSpec(2));
  auto short_vector = p.rows.Add("c", std::nullopt,
                                 {{atoms[0], {1, 2}, "", false}, {atoms[1], {1, 2, 3}, "", false}});
  CHECK(short_vector.status().code() == Status::Code::kInvalidArgument);
  CHECK(short_vector.status().message() ==
        "embeddings[1].vector: 3 components but collection 'c' has dimension 2");
  auto ghost = p.rows.Add("c", std::nullopt, {{999999, {1, 2}, "", false}});
  CHECK(ghost.status().code() == Status::Code::kNotFound);
  CHECK(ghost.status().message() == "embeddings[0].atom_id: atom 999999 does not exist");
  Status no_collection = p.writer.Write([&](storage::WriteTxn& txn) {
    return p.rows.PutInTxn(txn, "atoms[2].embedding", "nope", {atoms[0], {1, 2}, "", false});
  });
  CHECK(no_collection.code() == Status::Code::kNotFound);
  CHECK(no_collection.message() == "atoms[2].embedding.collection: no collection named 'nope'");
  auto empty = p.rows.Add("c", std::nullopt, {});
  CHECK(empty.status().message() == "embeddings: at least one is required");
  storage::ReadTxn txn(p.t.env());
  CHECK(storage::EmbeddingTable(p.t.tables()).OfAtom(txn, atoms[0])->empty());
}

TEST_CASE("AddEmbeddings creates a missing collection in the same transaction") {
  Parts p;
  auto atoms = p.MakeAtoms(1);
  auto added = p.rows.Add("auto", std::nullopt, {{atoms[0], {1, 2, 3, 4}, "", false}});
  REQUIRE(added.ok());
  CHECK(added->collection_created);
  auto c = p.collections.Find("auto");
  REQUIRE(c != nullptr);
  CHECK(c->record.dimension() == 4);
  CHECK(c->record.embedding_type() == "auto");
  CHECK(c->CurrentIndex()->size() == 1);  // applied after the collection went live
  CollectionSpec bad = FlatSpec(4);
  bad.index_kind = "ivf";
  auto refused = p.rows.Add("other", bad, {{atoms[0], {1, 2, 3, 4}, "", false}});
  CHECK(refused.status().code() == Status::Code::kInvalidArgument);
  CHECK(refused.status().message().rfind("create.", 0) == 0);
  CHECK(p.collections.Find("other") == nullptr);
}

TEST_CASE("deletes remove rows and their index entries on commit") {
  Parts p;
  auto atoms = p.MakeAtoms(2);
  auto a = p.Create("a", FlatSpec(2, "a"));
  auto b = p.Create("b", FlatSpec(2, "b"));
  for (const char* name : {"a", "b"}) {
    REQUIRE(
        p.rows
            .Add(name, std::nullopt, {{atoms[0], {1, 0}, "", false}, {atoms[1], {0, 1}, "", false}})
            .ok());
  }
  REQUIRE(p.rows.Delete("a", atoms[1]).ok());
  CHECK(a->CurrentIndex()->size() == 1);
  Status missing = p.rows.Delete("a", atoms[1]);
  CHECK(missing.code() == Status::Code::kNotFound);
  CHECK(missing.message() ==
        "atom_id: atom " + std::to_string(atoms[1]) + " has no embedding in collection 'a'");
  CHECK(p.rows.Delete("nope", atoms[0]).message() == "collection: no collection named 'nope'");

  uint64_t removed = 0;
  REQUIRE(p.writer
              .Write([&](storage::WriteTxn& txn) -> Status {
                HT_ASSIGN_OR_RETURN(removed, p.rows.RemoveAtom(txn, atoms[0]));
                return Status::Ok();
              })
              .ok());
  CHECK(removed == 2);
  CHECK(a->CurrentIndex()->size() == 0);
  CHECK(b->CurrentIndex()->size() == 1);
  CHECK(b->CurrentSpace()->fine().size() == 1);
  storage::ReadTxn txn(p.t.env());
  CHECK(storage::EmbeddingTable(p.t.tables()).OfAtom(txn, atoms[0])->empty());
}

}  // namespace
}  // namespace hartonomous::engine
