// ModelTable over a real LMDB environment: models by id, name, type and
// architecture, the indexes following updates and removal, layers in
// layer_idx order, layers by id, and corrupt index entries.
#include "storage/tables/model_table.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "storage/key_codec.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

ModelRecord Model(const std::string& name, const std::string& type, const std::string& arch) {
  ModelRecord r;
  r.set_model_name(name);
  r.set_model_type(type);
  r.set_architecture(arch);
  return r;
}

ModelLayerRecord Layer(uint64_t model_id, uint32_t idx) {
  ModelLayerRecord l;
  l.set_model_id(model_id);
  l.set_layer_idx(idx);
  l.set_layer_name("layer." + std::to_string(idx));
  return l;
}

uint64_t Insert(testing::TempEnv& t, ModelRecord record, const std::string& license = "") {
  WriteTxn txn(t.env(), nullptr);
  ModelMetadataRecord metadata;
  metadata.set_license(license);
  auto id = ModelTable(t.tables()).Insert(txn, &record, metadata);
  REQUIRE(id.ok());
  REQUIRE(txn.Commit().ok());
  return *id;
}

void InsertLayers(testing::TempEnv& t, uint64_t model_id, const std::vector<uint32_t>& idxs) {
  WriteTxn txn(t.env(), nullptr);
  for (uint32_t idx : idxs) {
    ModelLayerRecord layer = Layer(model_id, idx);
    REQUIRE(ModelTable(t.tables()).InsertLayer(txn, &layer).ok());
  }
  REQUIRE(txn.Commit().ok());
}

// The ids ScanModels visits, with every position it reports.
std::vector<uint64_t> Scan(testing::TempEnv& t, ModelIndex index, const std::string& value,
                           const std::string& after = "",
                           std::vector<std::string>* positions = nullptr) {
  ReadTxn txn(t.env());
  std::vector<uint64_t> ids;
  REQUIRE(ModelTable(t.tables())
              .ScanModels(txn, index, value, after,
                          [&](std::string_view position, uint64_t id) {
                            ids.push_back(id);
                            if (positions != nullptr) positions->emplace_back(position);
                            return true;
                          })
              .ok());
  return ids;
}

uint64_t Rows(testing::TempEnv& t, MDB_dbi dbi) {
  ReadTxn txn(t.env());
  auto n = txn.Count(dbi);
  REQUIRE(n.ok());
  return *n;
}

std::vector<uint32_t> LayerIdxs(testing::TempEnv& t, uint64_t model_id, uint64_t first = 0) {
  ReadTxn txn(t.env());
  std::vector<uint32_t> idxs;
  REQUIRE(ModelTable(t.tables())
              .ScanLayers(txn, model_id, first,
                          [&](ModelLayerRecord&& layer) {
                            CHECK(layer.model_id() == model_id);
                            idxs.push_back(layer.layer_idx());
                            return true;
                          })
              .ok());
  return idxs;
}

}  // namespace

TEST_CASE("model_table: insert assigns ids, names are unique, metadata is stored") {
  testing::TempEnv t;
  const uint64_t a = Insert(t, Model("a", "transformer", "llama"), "mit");
  const uint64_t b = Insert(t, Model("b", "", ""));
  CHECK(a == 1);
  CHECK(b == 2);
  {
    WriteTxn txn(t.env(), nullptr);
    ModelRecord dup = Model("a", "cnn", "");
    auto again = ModelTable(t.tables()).Insert(txn, &dup, {});
    REQUIRE(again.status().code() == Status::Code::kAlreadyExists);
    CHECK(again.status().message() == "model.model_name: a model named 'a' already exists");
  }
  ReadTxn txn(t.env());
  ModelTable table(t.tables());
  auto found = table.FindByName(txn, "a");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->model_id() == a);
  auto metadata = table.GetMetadata(txn, a);
  REQUIRE(metadata.ok());
  CHECK(metadata->model_id() == a);
  CHECK(metadata->license() == "mit");
  // Empty type and architecture are not indexed.
  CHECK(Rows(t, t.tables().models_by_type) == 1);
  CHECK(Rows(t, t.tables().models_by_architecture) == 1);
  CHECK(Rows(t, t.tables().model_metadata) == 2);
}

TEST_CASE("model_table: scans by type, architecture and name prefix, resumable") {
  testing::TempEnv t;
  const uint64_t a = Insert(t, Model("bert-base", "transformer", "bert"));
  const uint64_t b = Insert(t, Model("resnet", "cnn", "resnet"));
  const uint64_t c = Insert(t, Model("bert-large", "transformer", "bert"));
  const uint64_t d = Insert(t, Model("llama", "transformer", "llama"));
  // A type that is a prefix of another must not match it.
  const uint64_t e = Insert(t, Model("x", "transformerx", "llama"));

  CHECK(Scan(t, ModelIndex::kId, "") == std::vector<uint64_t>{a, b, c, d, e});
  CHECK(Scan(t, ModelIndex::kType, "transformer") == std::vector<uint64_t>{a, c, d});
  CHECK(Scan(t, ModelIndex::kType, "cnn") == std::vector<uint64_t>{b});
  CHECK(Scan(t, ModelIndex::kType, "rnn").empty());
  CHECK(Scan(t, ModelIndex::kArchitecture, "llama") == std::vector<uint64_t>{d, e});
  // Name order under a prefix.
  CHECK(Scan(t, ModelIndex::kName, "bert-") == std::vector<uint64_t>{a, c});
  CHECK(Scan(t, ModelIndex::kName, "") == std::vector<uint64_t>{a, c, d, b, e});

  // Resuming after each reported position visits the rest exactly once.
  for (ModelIndex index : {ModelIndex::kId, ModelIndex::kType, ModelIndex::kName}) {
    const std::string value = index == ModelIndex::kType ? "transformer" : "";
    std::vector<std::string> positions;
    const std::vector<uint64_t> all = Scan(t, index, value, "", &positions);
    for (size_t i = 0; i < positions.size(); ++i) {
      const std::vector<uint64_t> rest = Scan(t, index, value, positions[i]);
      CHECK(rest == std::vector<uint64_t>(all.begin() + static_cast<long>(i) + 1, all.end()));
    }
  }
}

TEST_CASE("model_table: update moves the name, type and architecture entries") {
  testing::TempEnv t;
  const uint64_t id = Insert(t, Model("m", "transformer", "bert"));
  ModelRecord old;
  {
    ReadTxn txn(t.env());
    auto found = ModelTable(t.tables()).Find(txn, id);
    REQUIRE(found.ok());
    old = **found;
  }
  ModelRecord next = old;
  next.set_model_name("m2");
  next.set_model_type("cnn");
  next.set_architecture("");
  ModelMetadataRecord metadata;
  metadata.set_license("apache-2.0");
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(ModelTable(t.tables()).Update(txn, old, next, metadata).ok());
    REQUIRE(txn.Commit().ok());
  }
  CHECK(Scan(t, ModelIndex::kType, "transformer").empty());
  CHECK(Scan(t, ModelIndex::kType, "cnn") == std::vector<uint64_t>{id});
  CHECK(Scan(t, ModelIndex::kArchitecture, "bert").empty());
  CHECK(Rows(t, t.tables().models_by_architecture) == 0);
  CHECK(Scan(t, ModelIndex::kName, "m2") == std::vector<uint64_t>{id});
  ReadTxn txn(t.env());
  ModelTable table(t.tables());
  CHECK_FALSE(table.FindId(txn, "m")->has_value());
  CHECK(table.GetMetadata(txn, id)->license() == "apache-2.0");
}

TEST_CASE("model_table: layers are kept in layer_idx order and found by id") {
  testing::TempEnv t;
  const uint64_t a = Insert(t, Model("a", "", ""));
  const uint64_t b = Insert(t, Model("b", "", ""));
  // Inserted out of order; 256 and 2 differ in their low byte only when
  // encoded little-endian, so the order proves the big-endian key.
  InsertLayers(t, a, {10, 2, 256, 0, 65536});
  InsertLayers(t, b, {1});
  CHECK(LayerIdxs(t, a) == std::vector<uint32_t>{0, 2, 10, 256, 65536});
  CHECK(LayerIdxs(t, a, 10) == std::vector<uint32_t>{10, 256, 65536});
  CHECK(LayerIdxs(t, a, 11) == std::vector<uint32_t>{256, 65536});
  CHECK(LayerIdxs(t, b) == std::vector<uint32_t>{1});
  CHECK(LayerIdxs(t, b, uint64_t{1} << 32).empty());

  ModelTable table(t.tables());
  {
    WriteTxn txn(t.env(), nullptr);
    ModelLayerRecord dup = Layer(a, 2);
    auto again = table.InsertLayer(txn, &dup);
    REQUIRE(again.status().code() == Status::Code::kAlreadyExists);
    CHECK(again.status().message() == "layer_idx: model 1 already has layer 2");
  }
  ReadTxn txn(t.env());
  // Layer ids come from one sequence across models: 1..5 for a, 6 for b.
  auto six = table.FindLayerById(txn, 6);
  REQUIRE(six.ok());
  REQUIRE(six->has_value());
  CHECK((*six)->model_id() == b);
  CHECK((*six)->layer_idx() == 1);
  auto third = table.FindLayer(txn, a, 256);
  REQUIRE(third.ok());
  REQUIRE(third->has_value());
  CHECK((*third)->layer_id() == 3);
  CHECK_FALSE(table.FindLayerById(txn, 7)->has_value());
  CHECK_FALSE(table.FindLayer(txn, a, 3)->has_value());
}

TEST_CASE("model_table: remove deletes the model with its layers, metadata and index entries") {
  testing::TempEnv t;
  const uint64_t a = Insert(t, Model("a", "transformer", "llama"));
  const uint64_t b = Insert(t, Model("b", "transformer", "llama"));
  InsertLayers(t, a, {0, 1, 2});
  InsertLayers(t, b, {0});
  ModelRecord record;
  {
    ReadTxn txn(t.env());
    record = **ModelTable(t.tables()).Find(txn, a);
  }
  {
    WriteTxn txn(t.env(), nullptr);
    auto removed = ModelTable(t.tables()).Remove(txn, record);
    REQUIRE(removed.ok());
    CHECK(*removed == 3);
    REQUIRE(txn.Commit().ok());
  }
  CHECK(Rows(t, t.tables().models) == 1);
  CHECK(Rows(t, t.tables().model_names) == 1);
  CHECK(Rows(t, t.tables().model_metadata) == 1);
  CHECK(Rows(t, t.tables().model_layers) == 1);
  CHECK(Rows(t, t.tables().model_layer_ids) == 1);
  CHECK(Scan(t, ModelIndex::kType, "transformer") == std::vector<uint64_t>{b});
  CHECK(Scan(t, ModelIndex::kArchitecture, "llama") == std::vector<uint64_t>{b});
  CHECK(LayerIdxs(t, b) == std::vector<uint32_t>{0});
  ReadTxn txn(t.env());
  CHECK_FALSE(ModelTable(t.tables()).FindLayerById(txn, 1)->has_value());
}

TEST_CASE("model_table: corrupt index entries are DataLoss naming the table") {
  testing::TempEnv t;
  Insert(t, Model("a", "transformer", ""));
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(txn.Put(t.tables().models_by_type, std::string("transformer") + '\0' + "xyz", "").ok());
    REQUIRE(txn.Put(t.tables().model_layer_ids, Be64Key(99), "short").ok());
    REQUIRE(txn.Put(t.tables().model_layer_ids, Be64Key(98), ModelTable::LayerKey(1, 5)).ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  ModelTable table(t.tables());
  Status scan = table.ScanModels(txn, ModelIndex::kType, "transformer", "",
                                 [](std::string_view, uint64_t) { return true; });
  CHECK(scan.code() == Status::Code::kDataLoss);
  CHECK(scan.message().find("models_by_type") != std::string::npos);
  auto shortened = table.FindLayerById(txn, 99);
  CHECK(shortened.status().code() == Status::Code::kDataLoss);
  CHECK(shortened.status().message() == "model_layer_ids: entry 99 is corrupt");
  auto dangling = table.FindLayerById(txn, 98);
  CHECK(dangling.status().code() == Status::Code::kDataLoss);
  CHECK(dangling.status().message() == "model_layer_ids: layer 98 has no row in model_layers");
}
