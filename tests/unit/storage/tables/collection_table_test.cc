// CollectionTable over a real LMDB environment: collections by id and by
// name, the (embedding type, model) lookup, projections, Drop, absent keys
// and corrupt rows.
#include "storage/tables/collection_table.h"

#include <catch2/catch.hpp>

#include "storage/key_codec.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

CollectionRecord Collection(const std::string& name, const std::string& type, uint64_t model) {
  CollectionRecord r;
  r.set_name(name);
  r.set_embedding_type(type);
  r.set_model_id(model);
  r.set_dimension(8);
  r.set_metric("cosine");
  r.set_index_kind("hnsw");
  return r;
}

uint64_t InsertCommitted(testing::TempEnv& t, CollectionRecord* record) {
  return testing::InsertCommitted<CollectionTable>(t, record);
}

ProjectionRecord Projection(uint64_t collection_id, uint64_t version) {
  ProjectionRecord p;
  p.set_collection_id(collection_id);
  p.set_kind("pca");
  p.set_version(version);
  p.set_dimension(8);
  return p;
}

// Two committed collections: a ("docs", text, model 1) and b ("images",
// image, model 2).
struct TwoCollections {
  testing::TempEnv t;
  CollectionTable table{t.tables()};
  CollectionRecord a = Collection("docs", "text", 1);
  CollectionRecord b = Collection("images", "image", 2);
  const uint64_t ida = InsertCommitted(t, &a);
  const uint64_t idb = InsertCommitted(t, &b);
};

}  // namespace

TEST_CASE_METHOD(TwoCollections,
                 "collection table: round trip by id, by name and by (embedding type, model)") {
  CHECK(idb == ida + 1);

  ReadTxn txn(t.env());
  REQUIRE(txn.status().ok());
  auto by_name = table.FindByName(txn, "images");
  REQUIRE(by_name.ok());
  REQUIRE(by_name->has_value());
  CHECK((*by_name)->collection_id() == idb);
  CHECK((*by_name)->embedding_type() == "image");
  auto by_pair = table.FindByEmbedding(txn, "text", 1);
  REQUIRE(by_pair.ok());
  REQUIRE(by_pair->has_value());
  CHECK((*by_pair)->name() == "docs");
  auto other_model = table.FindByEmbedding(txn, "text", 2);
  REQUIRE(other_model.ok());
  CHECK_FALSE(other_model->has_value());
  auto all = table.All(txn);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].name() == "docs");
  CHECK((*all)[1].name() == "images");
}

TEST_CASE("collection table: absent collection or projection is nullopt, Get is NOT_FOUND") {
  testing::TempEnv t;
  CollectionTable table(t.tables());
  ReadTxn txn(t.env());
  auto by_name = table.FindByName(txn, "nothing");
  REQUIRE(by_name.ok());
  CHECK_FALSE(by_name->has_value());
  auto projection = table.FindProjection(txn, 7);
  REQUIRE(projection.ok());
  CHECK_FALSE(projection->has_value());
  auto got = table.records().Get(txn, 7);
  CHECK(got.status().code() == Status::Code::kNotFound);
  CHECK(got.status().message() == "collections: no record 7");
}

TEST_CASE("collection table: a used name is ALREADY_EXISTS naming the field") {
  testing::TempEnv t;
  CollectionRecord a = Collection("docs", "text", 1);
  InsertCommitted(t, &a);
  WriteTxn txn(t.env(), nullptr);
  CollectionRecord again = Collection("docs", "other", 3);
  auto id = CollectionTable(t.tables()).Insert(txn, &again);
  CHECK(id.status().code() == Status::Code::kAlreadyExists);
  CHECK(id.status().message() == "name: a collection named 'docs' already exists");
}

TEST_CASE_METHOD(
    TwoCollections,
    "collection table: projections round trip; Drop removes record, name and projection") {
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(table.PutProjection(txn, Projection(ida, 3)).ok());
    REQUIRE(table.PutProjection(txn, Projection(idb, 1)).ok());
    REQUIRE(txn.Commit().ok());
  }
  {
    ReadTxn txn(t.env());
    auto p = table.FindProjection(txn, ida);
    REQUIRE(p.ok());
    REQUIRE(p->has_value());
    CHECK((*p)->version() == 3);
    CHECK((*p)->kind() == "pca");
  }
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(table.Drop(txn, a).ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  CHECK_FALSE(table.Find(txn, ida)->has_value());
  CHECK_FALSE(table.FindId(txn, "docs")->has_value());
  CHECK_FALSE(table.FindProjection(txn, ida)->has_value());
  // The other collection is untouched.
  CHECK(table.FindByName(txn, "images")->has_value());
  CHECK((*table.FindProjection(txn, idb))->version() == 1);
}

TEST_CASE("collection table: a corrupt collection or projection is DATA_LOSS naming the table") {
  testing::TempEnv t;
  CollectionTable table(t.tables());
  CollectionRecord a = Collection("docs", "text", 1);
  const uint64_t id = InsertCommitted(t, &a);
  {
    WriteTxn txn(t.env(), nullptr);
    // Not a protobuf: field 15, wire type 7 does not exist.
    REQUIRE(txn.Put(t.tables().collections, Be64Key(id), "\xff\xff\xff").ok());
    REQUIRE(txn.Put(t.tables().projections, Be64Key(id), "\xff\xff\xff").ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  auto by_name = table.FindByName(txn, "docs");
  CHECK(by_name.status().code() == Status::Code::kDataLoss);
  CHECK(by_name.status().message() == "collections: record " + std::to_string(id) + " is corrupt");
  auto by_pair = table.FindByEmbedding(txn, "text", 1);
  CHECK(by_pair.status().code() == Status::Code::kDataLoss);
  auto projection = table.FindProjection(txn, id);
  CHECK(projection.status().code() == Status::Code::kDataLoss);
  CHECK(projection.status().message() ==
        "projections: record " + std::to_string(id) + " is corrupt");
}
