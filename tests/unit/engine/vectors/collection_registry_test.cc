// CollectionRegistry: collections are created and deleted inside a write
// and become (in)visible exactly when it commits; names and (embedding type,
// model) pairs are unique; specs are checked field by field.
#include "server/engine/vectors/collection_registry.h"

#include <catch2/catch.hpp>

#include "storage/tables/collection_table.h"
#include "storage/tables/embedding_table.h"
#include "tests/unit/engine/vectors/collaborators_fixture.h"

namespace hartonomous::engine {
namespace {

using namespace testing_parts;

TEST_CASE("collection registry: an inserted collection is live from its commit, never on abort") {
  Parts p;
  bool live_inside = true;
  REQUIRE(p.writer
              .Write([&](storage::WriteTxn& txn) -> Status {
                HT_ASSIGN_OR_RETURN(auto record, p.collections.Insert(txn, "docs", FlatSpec(4)));
                CHECK(record.collection_id() > 0);
                CHECK(record.created_at_us() > 0);
                live_inside = p.collections.Find("docs") != nullptr;
                // The stored row is visible to the transaction itself.
                HT_ASSIGN_OR_RETURN(auto stored, p.collections.FindStored(txn, "docs"));
                CHECK(stored.has_value());
                return Status::Ok();
              })
              .ok());
  CHECK_FALSE(live_inside);
  auto c = p.collections.Find("docs");
  REQUIRE(c != nullptr);
  CHECK(c->CurrentIndex() != nullptr);
  CHECK(c->CurrentSpace() != nullptr);
  CHECK(c->record.dimension() == 4);
  CHECK(c->spec.kind == "flat");
  CHECK(p.collections.FindById(c->record.collection_id()) == c);
  CHECK(p.collections.NameOf(c->record.collection_id()) == "docs");

  Status aborted = p.writer.Write([&](storage::WriteTxn& txn) -> Status {
    HT_RETURN_IF_ERROR(p.collections.Insert(txn, "gone", FlatSpec(4, "other")).status());
    return Status::Aborted("changed my mind");
  });
  CHECK(aborted.code() == Status::Code::kAborted);
  CHECK(p.collections.Find("gone") == nullptr);
  storage::ReadTxn txn(p.t.env());
  auto stored = p.collections.FindStored(txn, "gone");
  REQUIRE(stored.ok());
  CHECK_FALSE(stored->has_value());
}

TEST_CASE("collection registry: names and (embedding type, model) pairs are unique") {
  Parts p;
  p.Create("docs", FlatSpec(4, "text"));
  auto insert = [&](const std::string& name, const CollectionSpec& spec) {
    return p.writer.Write(
        [&](storage::WriteTxn& txn) { return p.collections.Insert(txn, name, spec).status(); });
  };
  Status same_name = insert("docs", FlatSpec(4, "image"));
  CHECK(same_name.code() == Status::Code::kAlreadyExists);
  CHECK(same_name.message() == "name: collection 'docs' already exists");
  Status same_pair = insert("docs2", FlatSpec(8, "text"));
  CHECK(same_pair.code() == Status::Code::kAlreadyExists);
  CHECK(
      same_pair.message() ==
      "embedding_type/model_id: collection 'docs' already holds embedding type 'text' of model 1");
  CollectionSpec other_model = FlatSpec(4, "text");
  other_model.model_id = 2;
  CHECK(insert("docs3", other_model).ok());
  // Listing: by name, and by id.
  p.Create("a-first", FlatSpec(4, "a"));
  std::vector<std::string> by_name, by_id;
  for (const auto& c : p.collections.AllByName()) by_name.push_back(c->record.name());
  for (const auto& c : p.collections.All()) by_id.push_back(c->record.name());
  CHECK(by_name == std::vector<std::string>{"a-first", "docs", "docs3"});
  CHECK(by_id == std::vector<std::string>{"docs", "docs3", "a-first"});
}

TEST_CASE("collection registry: Remove deletes the stored collection and its rows on commit") {
  Parts p;
  auto ids = p.MakeAtoms(3);
  p.Create("gone", FlatSpec(2, "a"));
  p.Create("kept", FlatSpec(2, "b"));
  for (const char* name : {"gone", "kept"}) {
    std::vector<EmbeddingInput> inputs;
    for (uint64_t id : ids) inputs.push_back(EmbeddingInput{id, {1, 2}, "", false});
    REQUIRE(p.rows.Add(name, std::nullopt, inputs).ok());
  }
  auto held = p.collections.Find("gone");
  const uint64_t gone_id = held->record.collection_id();
  const uint64_t kept_id = p.collections.Find("kept")->record.collection_id();
  {
    storage::WriteTxn txn(p.t.env(), nullptr);
    storage::ProjectionRecord projection = CollectionSpace::DefaultRecord(held->record);
    REQUIRE(storage::CollectionTable(p.t.tables()).PutProjection(txn, projection).ok());
    REQUIRE(txn.Commit().ok());
  }
  std::vector<uint64_t> dropped;
  REQUIRE(p.writer
              .Write([&](storage::WriteTxn& txn) {
                return p.collections.Remove(txn, "gone", [&](Collection& c) {
                  dropped.push_back(c.record.collection_id());
                });
              })
              .ok());
  CHECK(dropped == std::vector<uint64_t>{gone_id});
  CHECK(held->dropped);
  CHECK(held->Info().vector_count == 3);  // a holder can still read it
  CHECK(p.collections.Find("gone") == nullptr);
  CHECK(p.collections.FindById(gone_id) == nullptr);

  storage::ReadTxn txn(p.t.env());
  CHECK_FALSE(p.collections.FindStored(txn, "gone")->has_value());
  CHECK_FALSE(storage::CollectionTable(p.t.tables()).FindProjection(txn, gone_id)->has_value());
  storage::EmbeddingTable rows(p.t.tables());
  size_t gone_rows = 0, kept_rows = 0;
  auto count = [](size_t* n) {
    return [n](const storage::EmbeddingRef&) {
      ++*n;
      return Status::Ok();
    };
  };
  REQUIRE(rows.Scan(txn, gone_id, 0, count(&gone_rows)).ok());
  REQUIRE(rows.Scan(txn, kept_id, 0, count(&kept_rows)).ok());
  CHECK(gone_rows == 0);
  CHECK(kept_rows == 3);
  CHECK(rows.OfAtom(txn, ids[0])->size() == 1);

  Status again = p.writer.Write(
      [&](storage::WriteTxn& txn) { return p.collections.Remove(txn, "gone", nullptr); });
  CHECK(again.code() == Status::Code::kNotFound);
  CHECK(again.message() == "collection: no collection named 'gone'");
}

TEST_CASE("collection registry: specs and create specs are checked field by field") {
  Parts p;
  CollectionSpec bad_kind = FlatSpec(4);
  bad_kind.index_kind = "ivf";
  CHECK(p.collections.CheckSpec(bad_kind).code() == Status::Code::kInvalidArgument);
  CHECK(p.collections.CheckSpec(bad_kind).message().find("index.kind") != std::string::npos);
  CollectionSpec bad_spatial = FlatSpec(4);
  bad_spatial.spatial_kind = "octree";
  CHECK(p.collections.CheckSpec(bad_spatial).code() == Status::Code::kInvalidArgument);
  CHECK(p.collections.CheckSpec(bad_spatial).message().rfind("spatial_index: ", 0) == 0);
  CHECK(p.collections.CheckSpec(FlatSpec(4)).ok());

  auto c = p.Create("docs", FlatSpec(4, "text", index::Metric::kCosine));
  const storage::CollectionRecord& have = c->record;
  CHECK(CheckCompatible(have, FlatSpec(4, "text", index::Metric::kCosine), true).ok());
  CHECK(CheckCompatible(have, FlatSpec(0, "", index::Metric::kCosine), false).ok());
  CHECK(CheckCompatible(have, FlatSpec(4, "text", index::Metric::kL2), true).message() ==
        "create.metric: collection 'docs' uses cosine, the request asks for l2");
  CHECK(CheckCompatible(have, FlatSpec(5, "text", index::Metric::kCosine), true).message() ==
        "create.dimension: collection 'docs' has dimension 4, the request asks for 5");
  CHECK(CheckCompatible(have, FlatSpec(4, "image", index::Metric::kCosine), true)
            .message()
            .rfind("create.embedding_type/model_id", 0) == 0);
  CollectionSpec hnsw = FlatSpec(4, "text", index::Metric::kCosine);
  hnsw.index_kind = "hnsw";
  CHECK(CheckCompatible(have, hnsw, true).message().rfind("create.index.kind", 0) == 0);
  CollectionSpec scan = FlatSpec(4, "text", index::Metric::kCosine);
  scan.spatial_kind = "scan";
  CHECK(CheckCompatible(have, scan, true).message() ==
        "create.spatial_index: collection 'docs' uses rtree, the request asks for scan");

  auto missing = p.collections.Require("nothing");
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(missing.status().message() == "collection: no collection named 'nothing'");
}

}  // namespace
}  // namespace hartonomous::engine
