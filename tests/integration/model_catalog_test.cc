// The model catalog (ModelService) through the client library against the
// real hartonomousd: CRUD, filters and paging, update masks, the delete
// cascade, durability across kill -9, and bad input.
#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

v1::CreateModelRequest NewModel(const std::string& name, const std::string& type = "",
                                const std::string& architecture = "", int layers = 0) {
  v1::CreateModelRequest request;
  v1::Model* m = request.mutable_model();
  m->set_model_name(name);
  m->set_model_type(type);
  m->set_architecture(architecture);
  for (int i = 0; i < layers; ++i) {
    v1::ModelLayer* layer = request.add_layers();
    layer->set_layer_idx(static_cast<uint32_t>(i));
    layer->set_layer_name("blk." + std::to_string(i) + ".ffn_up.weight");
    layer->add_tensor_shape(4);
    layer->add_tensor_shape(static_cast<uint64_t>(i + 1));
    layer->set_tensor_dtype("F32");
  }
  return request;
}

v1::Model Create(Client& client, const v1::CreateModelRequest& request) {
  v1::Model model;
  grpc::Status status = client.CreateModel(request, &model);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return model;
}

// Every model of the request's filters, page by page (the page size given).
std::vector<uint64_t> AllPages(Client& client, v1::ListModelsRequest request, int* pages) {
  std::vector<uint64_t> ids;
  *pages = 0;
  v1::ListModelsResponse page;
  do {
    page.Clear();
    grpc::Status status = client.ListModelsPage(request, &page);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(page.models_size() <= std::max(request.page_size(), 1));
    for (const auto& m : page.models()) ids.push_back(m.model_id());
    request.set_page_token(page.next_page_token());
    ++*pages;
  } while (!page.next_page_token().empty());
  return ids;
}

std::vector<uint32_t> LayerIdxs(Client& client, uint64_t model_id, grpc::Status* status) {
  v1::ListLayersRequest request;
  request.set_model_id(model_id);
  request.set_page_size(2);
  std::vector<uint32_t> idxs;
  *status = client.ListLayers(request, [&](const v1::ModelLayer& layer) {
    CHECK(layer.model_id() == model_id);
    idxs.push_back(layer.layer_idx());
    return true;
  });
  return idxs;
}

// INVALID_ARGUMENT whose message holds every one of `parts`.
void CheckInvalid(const grpc::Status& status, std::initializer_list<std::string> parts) {
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  for (const auto& part : parts) CHECK(status.error_message().find(part) != std::string::npos);
}

}  // namespace

TEST_CASE("model catalog: create, get, list layers, update and delete", "[models]") {
  Daemon daemon;
  Client& client = daemon.client();

  // The service reports its own health.
  auto health = grpc::health::v1::Health::NewStub(client.channel());
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest check;
  check.set_service("hartonomous.v1.ModelService");
  grpc::health::v1::HealthCheckResponse serving;
  REQUIRE(health->Check(&context, check, &serving).ok());
  CHECK(serving.status() == grpc::health::v1::HealthCheckResponse::SERVING);

  v1::CreateModelRequest request = NewModel("org/tiny-model", "transformer", "llama", 5);
  request.mutable_model()->set_config_json(R"({"hidden_size":4})");
  v1::ModelMetadata* md = request.mutable_model()->mutable_metadata();
  md->add_supported_tasks("text-generation");
  md->add_supported_modalities("text");
  md->set_max_input_length(2048);
  md->set_embedding_dimension(4);
  md->set_performance_metrics(R"({"mmlu":0.25})");
  md->set_training_dataset("synthetic");
  md->mutable_training_date()->set_seconds(1700000000);
  md->set_license("apache-2.0");
  md->set_source_url("https://example.org/tiny");
  const v1::Model created = Create(client, request);
  CHECK(created.model_id() > 0);
  CHECK(created.layer_count() == 5);
  CHECK(created.parameter_count() == 4 * (1 + 2 + 3 + 4 + 5));
  CHECK(created.has_ingestion_date());
  CHECK_FALSE(created.has_last_used());
  CHECK(created.usage_count() == 0);

  v1::GetModelRequest get;
  get.set_model_name("org/tiny-model");
  v1::Model got;
  REQUIRE(client.GetModel(get, &got).ok());
  CHECK(got.model_id() == created.model_id());
  CHECK(got.config_json() == R"({"hidden_size":4})");
  CHECK(got.metadata().supported_tasks(0) == "text-generation");
  CHECK(got.metadata().max_input_length() == 2048);
  CHECK(got.metadata().training_date().seconds() == 1700000000);
  CHECK(got.metadata().license() == "apache-2.0");

  grpc::Status listed;
  CHECK(LayerIdxs(client, created.model_id(), &listed) == std::vector<uint32_t>{0, 1, 2, 3, 4});
  REQUIRE(listed.ok());
  v1::GetLayerRequest by_idx;
  by_idx.set_model_name("org/tiny-model");
  by_idx.set_layer_idx(3);
  v1::ModelLayer layer;
  REQUIRE(client.GetLayer(by_idx, &layer).ok());
  CHECK(layer.layer_name() == "blk.3.ffn_up.weight");
  CHECK(layer.layer_type() == v1::LAYER_TYPE_FEEDFORWARD);
  CHECK(layer.parameter_count() == 16);
  v1::GetLayerRequest by_id;
  by_id.set_layer_id(layer.layer_id());
  v1::ModelLayer same;
  REQUIRE(client.GetLayer(by_id, &same).ok());
  CHECK(same.layer_idx() == 3);

  v1::UpdateModelRequest update;
  update.mutable_model()->set_model_id(created.model_id());
  update.mutable_model()->set_model_name("org/tiny-model-v2");
  update.mutable_model()->mutable_metadata()->set_license("mit");
  update.mutable_update_mask()->add_paths("model_name");
  update.mutable_update_mask()->add_paths("metadata.license");
  v1::Model updated;
  REQUIRE(client.UpdateModel(update, &updated).ok());
  CHECK(updated.model_name() == "org/tiny-model-v2");
  CHECK(updated.metadata().license() == "mit");
  CHECK(updated.metadata().source_url() == "https://example.org/tiny");
  CHECK(updated.model_type() == "transformer");
  grpc::Status old_name = client.GetModel(get, &got);
  CHECK(old_name.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(old_name.error_message() == "model_name: no model is named 'org/tiny-model'");

  v1::DeleteModelRequest del;
  del.set_model_id(created.model_id());
  v1::DeleteModelResponse deleted;
  REQUIRE(client.DeleteModel(del, &deleted).ok());
  CHECK(deleted.model_id() == created.model_id());
  CHECK(deleted.layers_deleted() == 5);
  // The cascade: no model, no layers, by any key.
  v1::GetModelRequest by_model_id;
  by_model_id.set_model_id(created.model_id());
  CHECK(client.GetModel(by_model_id, &got).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(LayerIdxs(client, created.model_id(), &listed).empty());
  CHECK(listed.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(client.GetLayer(by_id, &same).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(client.DeleteModel(del, &deleted).error_code() == grpc::StatusCode::NOT_FOUND);
  // The name is free again.
  CHECK(Create(client, NewModel("org/tiny-model-v2")).model_id() > created.model_id());
}

TEST_CASE("model catalog: names are unique", "[models]") {
  Daemon daemon;
  Create(daemon.client(), NewModel("dup"));
  v1::Model model;
  grpc::Status again = daemon.client().CreateModel(NewModel("dup", "cnn", "", 2), &model);
  CHECK(again.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(again.error_message() == "model.model_name: a model named 'dup' already exists");
  // Nothing of the refused create was stored: one model, no layers.
  v1::ListModelsRequest all;
  int pages = 0;
  CHECK(AllPages(daemon.client(), all, &pages).size() == 1);
  v1::ListModelsRequest cnn;
  cnn.set_model_type("cnn");
  CHECK(AllPages(daemon.client(), cnn, &pages).empty());
}

TEST_CASE("model catalog: filters and pages list every match exactly once", "[models]") {
  Daemon daemon;
  Client& client = daemon.client();
  std::vector<uint64_t> ids, transformers, bert_arch;
  std::set<uint64_t> prefixed;
  for (int i = 0; i < 17; ++i) {
    const std::string type = i % 3 == 0 ? "cnn" : "transformer";
    const std::string arch = i % 2 == 0 ? "bert" : "gpt2";
    const std::string name = (i % 5 == 0 ? "hf/" : "local-") + std::to_string(i);
    const uint64_t id = Create(client, NewModel(name, type, arch)).model_id();
    ids.push_back(id);
    if (type == "transformer") transformers.push_back(id);
    if (arch == "bert") bert_arch.push_back(id);
    if (i % 5 == 0) prefixed.insert(id);
  }
  int pages = 0;
  v1::ListModelsRequest request;
  request.set_page_size(3);
  CHECK(AllPages(client, request, &pages) == ids);
  CHECK(pages == 6);
  request.set_model_type("transformer");
  CHECK(AllPages(client, request, &pages) == transformers);
  request.set_model_type("");
  request.set_architecture("bert");
  CHECK(AllPages(client, request, &pages) == bert_arch);
  request.set_architecture("");
  request.set_name_prefix("hf/");
  std::vector<uint64_t> by_prefix = AllPages(client, request, &pages);
  CHECK(std::set<uint64_t>(by_prefix.begin(), by_prefix.end()) == prefixed);
  CHECK(by_prefix.size() == prefixed.size());
  request.set_name_prefix("");
  request.set_model_name("local-7");
  CHECK(AllPages(client, request, &pages).size() == 1);

  // page_size: 0 = the default (50), too large is capped, negative is refused.
  v1::ListModelsRequest big;
  big.set_page_size(1000000);
  v1::ListModelsResponse page;
  REQUIRE(client.ListModelsPage(big, &page).ok());
  CHECK(page.models_size() == 17);
  CHECK(page.next_page_token().empty());
  big.set_page_size(0);
  REQUIRE(client.ListModelsPage(big, &page).ok());
  CHECK(page.models_size() == 17);
  big.set_page_size(-1);
  CheckInvalid(client.ListModelsPage(big, &page), {"page_size", ">= 0"});

  // A token from another filter, or a forged one.
  v1::ListModelsRequest first;
  first.set_page_size(2);
  REQUIRE(client.ListModelsPage(first, &page).ok());
  REQUIRE_FALSE(page.next_page_token().empty());
  first.set_page_token(page.next_page_token());
  first.set_model_type("cnn");
  CheckInvalid(client.ListModelsPage(first, &page), {"page_token"});
  first.set_page_token("not-a-token");
  CheckInvalid(client.ListModelsPage(first, &page), {"page_token"});
}

TEST_CASE("model catalog: update masks", "[models]") {
  Daemon daemon;
  Client& client = daemon.client();
  const v1::Model created = Create(client, NewModel("masked", "transformer", "bert"));
  v1::UpdateModelRequest update;
  update.mutable_model()->set_model_name("masked");
  update.mutable_model()->set_architecture("roberta");
  update.mutable_update_mask()->add_paths("architecture");
  update.mutable_update_mask()->add_paths("usage_count");
  v1::Model updated;
  grpc::Status unknown = client.UpdateModel(update, &updated);
  CheckInvalid(unknown, {"update_mask", "'usage_count'", "not an updatable model field"});

  // The refused update changed nothing.
  v1::GetModelRequest get;
  get.set_model_id(created.model_id());
  v1::Model got;
  REQUIRE(client.GetModel(get, &got).ok());
  CHECK(got.architecture() == "bert");

  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("architecture");
  REQUIRE(client.UpdateModel(update, &updated).ok());
  CHECK(updated.architecture() == "roberta");
  CHECK(updated.model_type() == "transformer");
  v1::ListModelsRequest by_arch;
  by_arch.set_architecture("roberta");
  int pages = 0;
  CHECK(AllPages(client, by_arch, &pages) == std::vector<uint64_t>{created.model_id()});
  by_arch.set_architecture("bert");
  CHECK(AllPages(client, by_arch, &pages).empty());

  // Renaming needs the id: by name, model_name is the key.
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("model_name");
  CheckInvalid(client.UpdateModel(update, &updated), {"update_mask", "'model_name'", "model_id"});
  // "*" mixed with other paths is refused.
  update.mutable_update_mask()->add_paths("*");
  CheckInvalid(client.UpdateModel(update, &updated), {"update_mask", "'*'"});
  // A value that breaks a rule, in a masked path.
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("metadata.performance_metrics");
  update.mutable_model()->mutable_metadata()->set_performance_metrics("[1]");
  CheckInvalid(client.UpdateModel(update, &updated),
               {"model.metadata.performance_metrics", "JSON object"});
}

TEST_CASE("model catalog: bad input is INVALID_ARGUMENT naming the field and the rule",
          "[models]") {
  Daemon daemon;
  Client& client = daemon.client();
  v1::Model model;
  struct Case {
    const char* what;
    v1::CreateModelRequest request;
    std::vector<std::string> parts;
  };
  std::vector<Case> cases;
  cases.push_back({"no model", v1::CreateModelRequest(), {"model: required"}});
  cases.push_back({"empty name", NewModel(""), {"model.model_name", "required"}});
  cases.push_back({"long name", NewModel(std::string(129, 'n')), {"model.model_name", "1-128"}});
  cases.push_back({"bad name", NewModel("a b"), {"model.model_name", "[A-Za-z0-9_.:/+-]"}});
  cases.push_back({"digits", NewModel("42"), {"model.model_name", "all digits"}});
  cases.push_back({"bad type", NewModel("m", "a;b"), {"model.model_type", "[A-Za-z0-9_.-]"}});
  Case config{"config array", NewModel("m"), {"model.config_json", "JSON object"}};
  config.request.mutable_model()->set_config_json("[]");
  cases.push_back(config);
  Case deep{"config deep", NewModel("m"), {"model.config_json", "nested deeper than 64"}};
  deep.request.mutable_model()->set_config_json(std::string(100, '[') + std::string(100, ']'));
  cases.push_back(deep);
  Case url{"long url", NewModel("m"), {"model.metadata.source_url", "0-2048"}};
  url.request.mutable_model()->mutable_metadata()->set_source_url(std::string(3000, 'u'));
  cases.push_back(url);
  Case dup{"duplicate layer_idx", NewModel("m", "", "", 3), {"layers[2].layer_idx", "layers[0]"}};
  dup.request.mutable_layers(2)->set_layer_idx(0);
  cases.push_back(dup);
  Case count{"parameter_count",
             NewModel("m", "", "", 2),
             {"layers[1].parameter_count", "tensor_shape holds 8"}};
  count.request.mutable_layers(1)->set_parameter_count(9);
  cases.push_back(count);
  Case type{"layer_type", NewModel("m", "", "", 1), {"layers[0].layer_type", "unknown value 42"}};
  type.request.mutable_layers(0)->set_layer_type(static_cast<v1::LayerType>(42));
  cases.push_back(type);
  Case scale{"scale", NewModel("m", "", "", 1), {"layers[0].quantization_scale", "finite"}};
  scale.request.mutable_layers(0)->set_quantization_scale(std::numeric_limits<double>::infinity());
  cases.push_back(scale);
  Case nameless{"layer name", NewModel("m", "", "", 1), {"layers[0].layer_name", "required"}};
  nameless.request.mutable_layers(0)->set_layer_name("");
  cases.push_back(nameless);
  for (const Case& c : cases) {
    INFO(c.what);
    grpc::Status status = client.CreateModel(c.request, &model);
    INFO(status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    for (const auto& part : c.parts) CHECK(status.error_message().find(part) != std::string::npos);
  }

  v1::GetModelRequest no_key;
  CheckInvalid(client.GetModel(no_key, &model), {"model_id or model_name", "required"});
  v1::DeleteModelRequest no_delete_key;
  v1::DeleteModelResponse deleted;
  CheckInvalid(client.DeleteModel(no_delete_key, &deleted), {"model_id or model_name"});
  v1::ListModelsRequest both;
  both.set_model_name("a");
  both.set_name_prefix("a");
  v1::ListModelsResponse page;
  CheckInvalid(client.ListModelsPage(both, &page), {"name_prefix", "model_name"});
  v1::ListLayersRequest layers;
  v1::ListLayersResponse layer_page;
  CheckInvalid(client.ListLayersPage(layers, &layer_page), {"model_id or model_name"});
  layers.set_model_id(1);
  layers.set_page_size(-5);
  CheckInvalid(client.ListLayersPage(layers, &layer_page), {"page_size"});
  v1::GetLayerRequest layer_both;
  layer_both.set_layer_id(1);
  layer_both.set_model_id(1);
  v1::ModelLayer layer;
  CheckInvalid(client.GetLayer(layer_both, &layer), {"layer_id", "one key at most"});
  CheckInvalid(client.GetLayer(v1::GetLayerRequest(), &layer), {"layer_id", "required"});

  // None of the refused requests stored anything.
  int pages = 0;
  CHECK(AllPages(client, v1::ListModelsRequest(), &pages).empty());
}

TEST_CASE("model catalog: acknowledged models survive kill -9 and restart",
          "[models][durability]") {
  Daemon daemon;
  std::mutex mu;
  std::map<std::string, uint64_t> acked;  // name -> model_id
  KillDuringWrites(daemon, 3, 60, [&](int w, Client& client, const std::function<void()>& ack) {
    for (int i = 0;; ++i) {
      const std::string name = "w" + std::to_string(w) + "-m" + std::to_string(i);
      v1::Model model;
      if (!client.CreateModel(NewModel(name, "transformer", "llama", 3), &model).ok()) return;
      {
        std::lock_guard lock(mu);
        acked[name] = model.model_id();
      }
      ack();
    }
  });
  REQUIRE(acked.size() >= 60);
  Client& client = daemon.client();
  for (const auto& [name, id] : acked) {
    INFO(name);
    v1::GetModelRequest get;
    get.set_model_name(name);
    v1::Model model;
    REQUIRE(client.GetModel(get, &model).ok());
    CHECK(model.model_id() == id);
    CHECK(model.layer_count() == 3);
    grpc::Status status;
    CHECK(LayerIdxs(client, id, &status) == std::vector<uint32_t>{0, 1, 2});
    CHECK(status.ok());
  }
  // Every stored model is whole: none has fewer layers than it says.
  v1::ListModelsRequest all;
  std::set<uint64_t> stored;
  REQUIRE(client
              .ListModels(all,
                          [&](const v1::Model& m) {
                            stored.insert(m.model_id());
                            grpc::Status status;
                            CHECK(LayerIdxs(client, m.model_id(), &status).size() ==
                                  m.layer_count());
                            return true;
                          })
              .ok());
  CHECK(stored.size() >= acked.size());
  // Ids keep growing after the restart.
  uint64_t max_id = 0;
  for (uint64_t id : stored) max_id = std::max(max_id, id);
  CHECK(Create(client, NewModel("after-restart")).model_id() > max_id);

  // A clean stop keeps everything too.
  CHECK(daemon.Stop() == 0);
  daemon.Start();
  v1::GetModelRequest get;
  get.set_model_name("after-restart");
  v1::Model model;
  CHECK(daemon.client().GetModel(get, &model).ok());
}
