// ModelEngine over a real LMDB environment and WriteBatcher: create with
// layers, the field rules, listing with filters and paging, updates by
// path, the delete cascade and its atomicity, layers by id and by index.
#include "server/engine/models/model_engine.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::engine;
using storage::ModelLayerRecord;

namespace {

struct Fixture {
  testing::TempEnv t;
  storage::WriteBatcher writer{t.env()};
  ModelEngine models{t.env(), t.tables(), writer, std::string(32, 'k')};

  uint64_t Rows(MDB_dbi dbi) {
    storage::ReadTxn txn(t.env());
    auto n = txn.Count(dbi);
    REQUIRE(n.ok());
    return *n;
  }
};

ModelView Model(const std::string& name, const std::string& type = "",
                const std::string& arch = "") {
  ModelView v;
  v.model.set_model_name(name);
  v.model.set_model_type(type);
  v.model.set_architecture(arch);
  return v;
}

ModelLayerRecord Layer(uint32_t idx, const std::string& name, std::vector<uint64_t> shape = {}) {
  ModelLayerRecord l;
  l.set_layer_idx(idx);
  l.set_layer_name(name);
  for (uint64_t d : shape) l.add_tensor_shape(d);
  return l;
}

ModelView Created(Fixture& f, ModelView v, std::vector<ModelLayerRecord> layers = {}) {
  auto created = f.models.CreateModel(std::move(v), std::move(layers));
  INFO(created.status().ToString());
  REQUIRE(created.ok());
  return *created;
}

// Every model of the filter, page by page; checks that no model comes twice.
std::vector<uint64_t> AllPages(Fixture& f, const ModelFilter& filter, int page_size,
                               int* pages = nullptr) {
  std::vector<uint64_t> ids;
  std::string token;
  int count = 0;
  do {
    auto page = f.models.ListModels(filter, page_size, token);
    REQUIRE(page.ok());
    CHECK(static_cast<int>(page->models.size()) <= page_size);
    for (const auto& m : page->models) ids.push_back(m.model.model_id());
    token = page->next_page_token;
    ++count;
  } while (!token.empty());
  if (pages != nullptr) *pages = count;
  CHECK(std::set<uint64_t>(ids.begin(), ids.end()).size() == ids.size());
  return ids;
}

// The InvalidArgument message of creating v with layers.
std::string CreateError(Fixture& f, ModelView v, std::vector<ModelLayerRecord> layers = {}) {
  auto created = f.models.CreateModel(std::move(v), std::move(layers));
  REQUIRE_FALSE(created.ok());
  CHECK(created.status().code() == Status::Code::kInvalidArgument);
  return created.status().message();
}

}  // namespace

TEST_CASE("models: create stores the model, its metadata and its layers") {
  Fixture f;
  ModelView v = Model("tiny-llama", "transformer", "llama");
  v.model.set_config_json(R"({"hidden_size": 64})");
  v.metadata.add_supported_tasks("text-generation");
  v.metadata.set_license("apache-2.0");
  v.model.set_usage_count(99);  // output only: reset by the engine
  ModelLayerRecord q = Layer(1, "model.layers.0.self_attn.q_proj.weight", {64, 64});
  q.set_tensor_dtype("BF16");
  q.set_has_importance(true);
  q.set_importance(0.5);
  ModelView m = Created(f, v,
                        {Layer(0, "model.embed_tokens.weight", {1000, 64}), q,
                         Layer(2, "model.layers.0.post_attention_layernorm.weight", {64}),
                         Layer(3, "model.layers.0.mlp.down_proj.weight", {64, 256}),
                         Layer(4, "lm_head.weight", {1000, 64})});
  CHECK(m.model.model_id() == 1);
  CHECK(m.model.layer_count() == 5);
  CHECK(m.model.parameter_count() == 64000 + 4096 + 64 + 16384 + 64000);
  CHECK(m.model.usage_count() == 0);
  CHECK(m.model.ingestion_date_us() > 0);
  CHECK(m.metadata.model_id() == 1);

  auto got = f.models.GetModel(ModelKey{0, "tiny-llama"});
  REQUIRE(got.ok());
  CHECK(got->model.config_json() == R"({"hidden_size": 64})");
  CHECK(got->metadata.license() == "apache-2.0");
  CHECK(got->metadata.supported_tasks(0) == "text-generation");

  auto layers = f.models.ListLayers(ModelKey{1, ""}, 10, "");
  REQUIRE(layers.ok());
  REQUIRE(layers->layers.size() == 5);
  // Guessed from the names (models::GuessLayerType), stored as the API's
  // values: embedding 1, attention 2, norm 4, feedforward 3, other 5.
  const std::vector<uint32_t> types = {1, 2, 4, 3, 5};
  for (size_t i = 0; i < 5; ++i) {
    const auto& layer = layers->layers[i];
    CHECK(layer.layer_idx() == i);
    CHECK(layer.model_id() == 1);
    CHECK(layer.layer_id() == i + 1);
    CHECK(layer.layer_type() == types[i]);
  }
  CHECK(layers->layers[1].importance() == 0.5);
  CHECK(layers->layers[1].tensor_dtype() == "BF16");

  auto by_id = f.models.GetLayer(LayerKey{4, {}, 0});
  REQUIRE(by_id.ok());
  CHECK(by_id->layer_name() == "model.layers.0.mlp.down_proj.weight");
  auto by_idx = f.models.GetLayer(LayerKey{0, {0, "tiny-llama"}, 2});
  REQUIRE(by_idx.ok());
  CHECK(by_idx->layer_id() == 3);
  auto missing = f.models.GetLayer(LayerKey{0, {1, ""}, 7});
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(missing.status().message() == "layer_idx: model 'tiny-llama' has no layer 7");
  CHECK(f.models.GetLayer(LayerKey{99, {}, 0}).status().message() ==
        "layer_id: layer 99 does not exist");
}

TEST_CASE("models: names are unique, also across renames") {
  Fixture f;
  Created(f, Model("a"));
  const uint64_t b = Created(f, Model("b")).model.model_id();
  auto dup = f.models.CreateModel(Model("a"), {});
  CHECK(dup.status().code() == Status::Code::kAlreadyExists);
  CHECK(dup.status().message() == "model.model_name: a model named 'a' already exists");
  ModelPatch rename;
  rename.values = Model("a");
  rename.paths = {"model_name"};
  CHECK(f.models.UpdateModel(ModelKey{b, ""}, rename).status().code() ==
        Status::Code::kAlreadyExists);
  rename.values = Model("c");
  REQUIRE(f.models.UpdateModel(ModelKey{b, ""}, rename).ok());
  CHECK(f.models.GetModel(ModelKey{0, "b"}).status().code() == Status::Code::kNotFound);
  CHECK(f.models.GetModel(ModelKey{0, "c"})->model.model_id() == b);
  // The old name is free again.
  CHECK(f.models.CreateModel(Model("b"), {}).ok());
}

TEST_CASE("models: field rules name the field and the rule") {
  Fixture f;
  CHECK(CreateError(f, Model("")) ==
        "model.model_name: required, 1-128 bytes of [A-Za-z0-9_.:/+-] (got 0 bytes)");
  CHECK(CreateError(f, Model(std::string(129, 'a'))) ==
        "model.model_name: required, 1-128 bytes of [A-Za-z0-9_.:/+-] (got 129 bytes)");
  CHECK(CreateError(f, Model("has space")).rfind("model.model_name: required", 0) == 0);
  CHECK(CreateError(f, Model("12345")) ==
        "model.model_name: must not be all digits (a number names a model_id)");
  CHECK(CreateError(f, Model("m", "trans former")).rfind("model.model_type: 0-64 bytes", 0) == 0);
  CHECK(CreateError(f, Model("m", "", std::string(65, 'x')))
            .rfind("model.architecture: 0-64 bytes", 0) == 0);

  ModelView config = Model("m");
  config.model.set_config_json("[1, 2]");
  CHECK(CreateError(f, config) == "model.config_json: must be a JSON object, got array");
  config.model.set_config_json(std::string(70, '[') + std::string(70, ']'));
  CHECK(CreateError(f, config).rfind("model.config_json: JSON nested deeper than 64", 0) == 0);
  config.model.set_config_json(R"({"a": ")" + std::string(size_t{1} << 20, 'x') + R"("})");
  CHECK(CreateError(f, config).rfind("model.config_json: longer than", 0) == 0);

  ModelView metrics = Model("m");
  metrics.metadata.set_performance_metrics("{not json");
  CHECK(
      CreateError(f, metrics).rfind("model.metadata.performance_metrics: must be valid JSON", 0) ==
      0);
  ModelView tasks = Model("m");
  tasks.metadata.add_supported_tasks("");
  CHECK(CreateError(f, tasks).rfind("model.metadata.supported_tasks[0]: 1-64 bytes", 0) == 0);

  CHECK(CreateError(f, Model("m"), {Layer(0, "")}).rfind("layers[0].layer_name: required", 0) == 0);
  CHECK(CreateError(f, Model("m"), {Layer(0, "a"), Layer(1, "b"), Layer(0, "c")}) ==
        "layers[2].layer_idx: 0 is also the layer_idx of layers[0]");
  ModelLayerRecord mismatch = Layer(0, "w", {2, 3});
  mismatch.set_parameter_count(7);
  CHECK(CreateError(f, Model("m"), {mismatch}) ==
        "layers[0].parameter_count: 7 but tensor_shape holds 6");
  CHECK(CreateError(f, Model("m"), {Layer(0, "w", {uint64_t{1} << 40, uint64_t{1} << 40})}) ==
        "layers[0].tensor_shape: the product of the dimensions overflows 64 bits");
  CHECK(CreateError(f, Model("m"), {Layer(0, "w", std::vector<uint64_t>(17, 1))}) ==
        "layers[0].tensor_shape: at most 16 dimensions, got 17");
  ModelLayerRecord nan = Layer(0, "w");
  nan.set_has_importance(true);
  nan.set_importance(std::nan(""));
  CHECK(CreateError(f, Model("m"), {nan}) == "layers[0].importance: must be finite, got NaN");
  ModelLayerRecord dtype = Layer(0, "w");
  dtype.set_tensor_dtype("F 32");
  CHECK(CreateError(f, Model("m"), {dtype}).rfind("layers[0].tensor_dtype: 0-32 bytes", 0) == 0);
  ModelLayerRecord params = Layer(0, "w");
  params.set_parameters_json("3");
  CHECK(CreateError(f, Model("m"), {params}) ==
        "layers[0].parameters_json: must be a JSON object, got number");

  // Nothing of the refused requests was stored.
  CHECK(f.Rows(f.t.tables().models) == 0);
  CHECK(f.Rows(f.t.tables().model_layers) == 0);
  CHECK(f.Rows(f.t.tables().model_metadata) == 0);
}

TEST_CASE("models: list filters and pages cover every match exactly once") {
  Fixture f;
  std::vector<uint64_t> all, transformers, llamas, bert_prefixed;
  for (int i = 0; i < 23; ++i) {
    const std::string type = i % 3 == 0 ? "cnn" : "transformer";
    const std::string arch = i % 2 == 0 ? "llama" : "bert";
    const std::string name = (i % 4 == 0 ? "bert-" : "m-") + std::to_string(100 - i);
    const uint64_t id = Created(f, Model(name, type, arch)).model.model_id();
    all.push_back(id);
    if (type == "transformer") transformers.push_back(id);
    if (type == "transformer" && arch == "llama") llamas.push_back(id);
    if (name.rfind("bert-", 0) == 0) bert_prefixed.push_back(id);
  }
  int pages = 0;
  CHECK(AllPages(f, ModelFilter{}, 5, &pages) == all);
  CHECK(pages == 5);
  CHECK(AllPages(f, ModelFilter{}, 23, &pages) == all);
  CHECK(pages == 1);
  CHECK(AllPages(f, ModelFilter{"", "", "transformer", ""}, 4) == transformers);
  CHECK(AllPages(f, ModelFilter{"", "", "transformer", "llama"}, 2) == llamas);
  CHECK(AllPages(f, ModelFilter{"", "", "", "llama"}, 3).size() == 12);
  // Name order under a prefix (bert-100, bert-80, bert-84, ...).
  std::vector<uint64_t> by_name = AllPages(f, ModelFilter{"", "bert-", "", ""}, 2);
  CHECK(by_name.size() == bert_prefixed.size());
  std::vector<std::string> names;
  for (uint64_t id : by_name)
    names.push_back(f.models.GetModel(ModelKey{id, ""})->model.model_name());
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(AllPages(f, ModelFilter{"m-99", "", "", ""}, 5).size() == 1);
  CHECK(AllPages(f, ModelFilter{"m-99", "", "cnn", ""}, 5).empty());
  CHECK(AllPages(f, ModelFilter{"nope", "", "", ""}, 5).empty());

  // A token is bound to its filter.
  auto first = f.models.ListModels(ModelFilter{"", "", "transformer", ""}, 2, "");
  REQUIRE(first.ok());
  REQUIRE_FALSE(first->next_page_token.empty());
  auto other = f.models.ListModels(ModelFilter{"", "", "cnn", ""}, 2, first->next_page_token);
  CHECK(other.status().code() == Status::Code::kInvalidArgument);
  CHECK(other.status().message().rfind("page_token", 0) == 0);

  // A response budget ends a page early, with a token that continues it.
  ResponseBudget budget(600);
  auto small = f.models.ListModels(ModelFilter{}, 50, "", &budget);
  REQUIRE(small.ok());
  CHECK(small->models.size() < 23);
  CHECK_FALSE(small->models.empty());
  CHECK_FALSE(small->next_page_token.empty());
  ResponseBudget tiny(10);
  CHECK(f.models.ListModels(ModelFilter{}, 50, "", &tiny).status().code() ==
        Status::Code::kResourceExhausted);
}

TEST_CASE("models: update changes only the named paths and keeps the indexes in step") {
  Fixture f;
  ModelView v = Model("m", "transformer", "bert");
  v.model.set_config_json(R"({"a":1})");
  v.metadata.set_license("mit");
  v.metadata.set_source_url("https://example.org/m");
  const uint64_t id = Created(f, v).model.model_id();

  ModelPatch patch;
  patch.values = Model("ignored", "cnn", "resnet");
  patch.values.model.set_config_json(R"({"b":2})");
  patch.values.metadata.set_license("apache-2.0");
  patch.paths = {"model_type", "metadata.license"};
  auto updated = f.models.UpdateModel(ModelKey{0, "m"}, patch);
  REQUIRE(updated.ok());
  CHECK(updated->model.model_name() == "m");
  CHECK(updated->model.model_type() == "cnn");
  CHECK(updated->model.architecture() == "bert");
  CHECK(updated->model.config_json() == R"({"a":1})");
  CHECK(updated->metadata.license() == "apache-2.0");
  CHECK(updated->metadata.source_url() == "https://example.org/m");
  CHECK(updated->model.updated_at_us() >= updated->model.ingestion_date_us());
  CHECK(AllPages(f, ModelFilter{"", "", "transformer", ""}, 5).empty());
  CHECK(AllPages(f, ModelFilter{"", "", "cnn", ""}, 5) == std::vector<uint64_t>{id});

  // Empty paths: every top-level field; by name, the name stays the key.
  patch.paths = {};
  updated = f.models.UpdateModel(ModelKey{0, "m"}, patch);
  REQUIRE(updated.ok());
  CHECK(updated->model.model_name() == "m");
  CHECK(updated->model.architecture() == "resnet");
  CHECK(updated->model.config_json() == R"({"b":2})");
  CHECK(updated->metadata.source_url().empty());  // "metadata" replaced whole

  patch.paths = {"model_name"};
  auto by_name = f.models.UpdateModel(ModelKey{0, "m"}, patch);
  CHECK(by_name.status().code() == Status::Code::kInvalidArgument);
  CHECK(by_name.status().message().rfind("update_mask: 'model_name' needs model.model_id", 0) == 0);
  patch.paths = {"model_id"};
  auto unknown = f.models.UpdateModel(ModelKey{id, ""}, patch);
  CHECK(unknown.status().message() == "update_mask: 'model_id' is not an updatable model field");
  patch.paths = {"config_json"};
  patch.values.model.set_config_json("[]");
  auto bad = f.models.UpdateModel(ModelKey{id, ""}, patch);
  CHECK(bad.status().message() == "model.config_json: must be a JSON object, got array");
  CHECK(f.models.GetModel(ModelKey{id, ""})->model.config_json() == R"({"b":2})");
  CHECK(f.models.UpdateModel(ModelKey{77, ""}, patch).status().code() == Status::Code::kNotFound);
}

TEST_CASE("models: delete cascades to layers and metadata, all or nothing") {
  Fixture f;
  const uint64_t a =
      Created(f, Model("a", "transformer"), {Layer(0, "x"), Layer(1, "y"), Layer(2, "z")})
          .model.model_id();
  const uint64_t b = Created(f, Model("b"), {Layer(0, "x")}).model.model_id();

  // A dependent remover sees the model and its layers, inside the delete.
  std::vector<uint64_t> seen_layers;
  bool fail = true;
  f.models.AddModelDependentRemover(
      [&](storage::WriteTxn&, const storage::ModelRecord& model,
          const std::vector<ModelLayerRecord>& layers) -> Result<uint64_t> {
        CHECK(model.model_id() == a);
        seen_layers.clear();
        for (const auto& l : layers) seen_layers.push_back(l.layer_id());
        if (fail) return Status::Internal("dependent remover failed");
        return uint64_t{0};
      });
  auto failed = f.models.DeleteModel(ModelKey{0, "a"});
  CHECK(failed.status().code() == Status::Code::kInternal);
  // Nothing of the failed delete is committed.
  CHECK(f.models.GetModel(ModelKey{a, ""}).ok());
  CHECK(f.models.ListLayers(ModelKey{a, ""}, 10, "")->layers.size() == 3);

  fail = false;
  auto deleted = f.models.DeleteModel(ModelKey{0, "a"});
  REQUIRE(deleted.ok());
  CHECK(deleted->model_id == a);
  CHECK(deleted->layers_deleted == 3);
  CHECK(seen_layers == std::vector<uint64_t>{1, 2, 3});
  CHECK(f.models.GetModel(ModelKey{a, ""}).status().message() ==
        "model_id: model 1 does not exist");
  CHECK(f.models.ListLayers(ModelKey{a, ""}, 10, "").status().code() == Status::Code::kNotFound);
  CHECK(f.models.GetLayer(LayerKey{1, {}, 0}).status().code() == Status::Code::kNotFound);
  CHECK(f.Rows(f.t.tables().model_layers) == 1);
  CHECK(f.Rows(f.t.tables().model_layer_ids) == 1);
  CHECK(f.Rows(f.t.tables().model_metadata) == 1);
  CHECK(f.Rows(f.t.tables().models_by_type) == 0);
  CHECK(f.models.GetLayer(LayerKey{4, {}, 0})->model_id() == b);
  CHECK(f.models.DeleteModel(ModelKey{0, "a"}).status().message() ==
        "model_name: no model is named 'a'");
}

TEST_CASE("models: layers page in layer_idx order") {
  Fixture f;
  std::vector<ModelLayerRecord> layers;
  for (uint32_t i = 0; i < 25; ++i) layers.push_back(Layer(24 - i, "l" + std::to_string(24 - i)));
  Created(f, Model("m"), std::move(layers));
  std::vector<uint32_t> idxs;
  std::string token;
  int pages = 0;
  do {
    auto page = f.models.ListLayers(ModelKey{0, "m"}, 7, token);
    REQUIRE(page.ok());
    for (const auto& l : page->layers) idxs.push_back(l.layer_idx());
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  CHECK(pages == 4);
  REQUIRE(idxs.size() == 25);
  for (uint32_t i = 0; i < 25; ++i) CHECK(idxs[i] == i);
  // A layer token is bound to its model.
  Created(f, Model("n"), {Layer(0, "x")});
  auto first = f.models.ListLayers(ModelKey{0, "m"}, 7, "");
  CHECK(f.models.ListLayers(ModelKey{0, "n"}, 7, first->next_page_token).status().code() ==
        Status::Code::kInvalidArgument);
}
