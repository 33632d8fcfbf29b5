// ModelService request validation (structure: keys, page sizes, filters,
// update mask paths) and the conversions between API messages and stored
// records (every field both ways).
#include "server/rpc/model/model_validation.h"

#include <catch2/catch.hpp>
#include <string>

#include "server/rpc/model/model_convert.h"

using namespace hartonomous;
using namespace hartonomous::rpc;

namespace {

std::string Message(const Status& status) {
  CHECK(status.code() == Status::Code::kInvalidArgument);
  return status.message();
}

}  // namespace

TEST_CASE("model validation: keys are required, one at a time") {
  CHECK(Message(ValidateGetModel(v1::GetModelRequest())) ==
        "model_id or model_name: one is required");
  v1::GetModelRequest by_name;
  by_name.set_model_name("m");
  CHECK(ValidateGetModel(by_name).ok());
  by_name.set_model_name(std::string(129, 'm'));
  CHECK(Message(ValidateGetModel(by_name)) == "model_name: at most 128 bytes, got 129");
  v1::DeleteModelRequest by_id;
  by_id.set_model_id(0);  // set but zero: no key
  CHECK(Message(ValidateDeleteModel(by_id)) == "model_id or model_name: one is required");
  by_id.set_model_id(3);
  CHECK(ValidateDeleteModel(by_id).ok());

  v1::GetLayerRequest layer;
  CHECK(Message(ValidateGetLayer(layer)) ==
        "layer_id or model_id/model_name with layer_idx: one is required");
  layer.set_layer_id(4);
  CHECK(ValidateGetLayer(layer).ok());
  layer.set_layer_idx(1);
  CHECK(Message(ValidateGetLayer(layer)) ==
        "layer_id: not with model_id, model_name or layer_idx (one key at most)");
  layer.Clear();
  layer.set_model_id(1);
  layer.set_model_name("m");
  CHECK(Message(ValidateGetLayer(layer)) ==
        "model_name: not with model_id (one model key at most)");
  layer.clear_model_id();
  CHECK(ValidateGetLayer(layer).ok());  // layer_idx 0 of model 'm'
}

TEST_CASE("model validation: list filters and page sizes") {
  v1::ListModelsRequest list;
  CHECK(ValidateListModels(list).ok());
  list.set_page_size(-1);
  CHECK(Message(ValidateListModels(list)) == "page_size: must be >= 0 (0 = default of 50)");
  list.set_page_size(5000);  // capped, not refused
  CHECK(ValidateListModels(list).ok());
  list.set_model_type(std::string(65, 't'));
  CHECK(Message(ValidateListModels(list)) == "model_type: at most 64 bytes, got 65");
  list.clear_model_type();
  list.set_architecture(std::string(65, 'a'));
  CHECK(Message(ValidateListModels(list)) == "architecture: at most 64 bytes, got 65");
  list.clear_architecture();
  list.set_model_name("a");
  list.set_name_prefix("a");
  CHECK(Message(ValidateListModels(list)) ==
        "name_prefix: not with model_name (one name filter at most)");

  v1::ListLayersRequest layers;
  CHECK(Message(ValidateListLayers(layers)) == "model_id or model_name: one is required");
  layers.set_model_name("m");
  layers.set_page_size(-2);
  CHECK(Message(ValidateListLayers(layers)) == "page_size: must be >= 0 (0 = default of 50)");
}

TEST_CASE("model validation: create and update structure") {
  v1::CreateModelRequest create;
  CHECK(Message(ValidateCreateModel(create)) == "model: required");
  create.mutable_model()->set_model_name("m");
  create.add_layers()->set_layer_type(v1::LAYER_TYPE_NORM);
  create.add_layers()->set_layer_type(static_cast<v1::LayerType>(9));
  CHECK(Message(ValidateCreateModel(create)) == "layers[1].layer_type: unknown value 9");

  v1::UpdateModelRequest update;
  CHECK(Message(ValidateUpdateModel(update)) == "model: required");
  update.mutable_model()->set_model_id(1);
  CHECK(ValidateUpdateModel(update).ok());  // empty mask: every field
  for (const char* path : {"model_name", "model_type", "architecture", "config_json",
                           "parameter_count", "metadata", "metadata.license",
                           "metadata.training_date", "metadata.supported_tasks"}) {
    INFO(path);
    update.mutable_update_mask()->Clear();
    update.mutable_update_mask()->add_paths(path);
    CHECK(ValidateUpdateModel(update).ok());
  }
  for (const char* path : {"model_id", "ingestion_date", "usage_count", "layer_count",
                           "metadata.model_id", "metadata.", "layers"}) {
    INFO(path);
    update.mutable_update_mask()->Clear();
    update.mutable_update_mask()->add_paths(path);
    CHECK(Message(ValidateUpdateModel(update))
              .rfind("update_mask: '" + std::string(path) + "' is not an updatable model field",
                     0) == 0);
  }
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("*");
  CHECK(ValidateUpdateModel(update).ok());
  update.mutable_update_mask()->add_paths("model_type");
  CHECK(Message(ValidateUpdateModel(update)) == "update_mask: '*' must be the only path");
}

TEST_CASE("model conversion: every field survives the round trip") {
  v1::Model in;
  in.set_model_id(7);
  in.set_model_name("m");
  in.set_model_type("transformer");
  in.set_architecture("llama");
  in.set_config_json(R"({"a":1})");
  in.set_parameter_count(123);
  v1::ModelMetadata* md = in.mutable_metadata();
  md->add_supported_tasks("t");
  md->add_supported_modalities("text");
  md->set_max_input_length(1);
  md->set_max_output_length(2);
  md->set_embedding_dimension(3);
  md->set_performance_metrics(R"({"x":0.5})");
  md->set_training_dataset("d");
  md->mutable_training_date()->set_seconds(1700000000);
  md->set_license("l");
  md->set_source_url("u");
  engine::ModelView view = ToModelView(in);
  view.model.set_ingestion_date_us(5000000);
  view.model.set_updated_at_us(6000000);
  view.model.set_layer_count(2);
  v1::Model out;
  ToProto(view, &out);
  CHECK(out.model_id() == 7);
  CHECK(out.parameter_count() == 123);
  CHECK(out.ingestion_date().seconds() == 5);
  CHECK(out.updated_at().seconds() == 6);
  CHECK_FALSE(out.has_last_used());
  CHECK(out.layer_count() == 2);
  v1::Model expected = in;
  *expected.mutable_ingestion_date() = out.ingestion_date();
  *expected.mutable_updated_at() = out.updated_at();
  expected.set_layer_count(2);
  CHECK(out.SerializeAsString() == expected.SerializeAsString());

  v1::ModelLayer layer;
  layer.set_layer_idx(3);
  layer.set_layer_name("blk.0.attn_q.weight");
  layer.set_layer_type(v1::LAYER_TYPE_ATTENTION);
  layer.add_tensor_shape(2);
  layer.add_tensor_shape(3);
  layer.set_tensor_dtype("Q8_0");
  layer.set_parameter_count(6);
  layer.set_parameters_json(R"({"k":1})");
  layer.set_quantization_type("q8_0");
  layer.set_quantization_scale(0.25);
  layer.set_quantization_zero_point(-3);
  layer.set_importance(0);
  storage::ModelLayerRecord record = ToLayerRecord(layer);
  CHECK(record.has_importance());  // set to 0 is not unset
  v1::ModelLayer back;
  ToProto(record, &back);
  CHECK(back.has_importance());
  CHECK(back.quantization_zero_point() == -3);
  back.clear_created_at();
  CHECK(back.SerializeAsString() == layer.SerializeAsString());
  v1::ModelLayer unset;
  ToProto(ToLayerRecord(v1::ModelLayer()), &unset);
  CHECK_FALSE(unset.has_importance());
  CHECK_FALSE(unset.has_quantization_scale());
  CHECK_FALSE(unset.has_quantization_zero_point());
}
