#include "server/rpc/model/model_validation.h"

#include <algorithm>
#include <string>

#include "server/engine/models/model_engine.h"
#include "server/rpc/common/validation.h"

namespace hartonomous::rpc {
namespace {

// A model named by id or by name: "model_id or model_name: one is required".
Status ValidateModelKey(uint64_t model_id, const std::string& model_name, bool key_set) {
  if (!key_set || (model_id == 0 && model_name.empty())) {
    return Status::InvalidArgument("model_id or model_name: one is required");
  }
  if (model_id == 0 && model_name.size() > engine::kMaxModelNameBytes) {
    return Status::InvalidArgument("model_name: at most " +
                                   std::to_string(engine::kMaxModelNameBytes) + " bytes, got " +
                                   std::to_string(model_name.size()));
  }
  return Status::Ok();
}

// A filter of ListModels: its byte limit (the values a stored model can have).
struct FilterRule {
  const char* field;
  const std::string& (v1::ListModelsRequest::*get)() const;
  size_t max;
};

const FilterRule kFilterRules[] = {
    {"model_name", &v1::ListModelsRequest::model_name, engine::kMaxModelNameBytes},
    {"name_prefix", &v1::ListModelsRequest::name_prefix, engine::kMaxModelNameBytes},
    {"model_type", &v1::ListModelsRequest::model_type, engine::kMaxModelTokenBytes},
    {"architecture", &v1::ListModelsRequest::architecture, engine::kMaxModelTokenBytes},
};

}  // namespace

Status ValidateCreateModel(const v1::CreateModelRequest& request) {
  if (!request.has_model()) return Status::InvalidArgument("model: required");
  if (static_cast<size_t>(request.layers_size()) > engine::kMaxLayersPerCreate) {
    return Status::InvalidArgument("layers: at most " +
                                   std::to_string(engine::kMaxLayersPerCreate) + ", got " +
                                   std::to_string(request.layers_size()));
  }
  for (int i = 0; i < request.layers_size(); ++i) {
    if (!v1::LayerType_IsValid(request.layers(i).layer_type())) {
      return Status::InvalidArgument("layers[" + std::to_string(i) +
                                     "].layer_type: unknown value " +
                                     std::to_string(request.layers(i).layer_type()));
    }
  }
  return Status::Ok();
}

Status ValidateGetModel(const v1::GetModelRequest& request) {
  return ValidateModelKey(request.model_id(), request.model_name(),
                          request.key_case() != v1::GetModelRequest::KEY_NOT_SET);
}

Status ValidateDeleteModel(const v1::DeleteModelRequest& request) {
  return ValidateModelKey(request.model_id(), request.model_name(),
                          request.key_case() != v1::DeleteModelRequest::KEY_NOT_SET);
}

Status ValidateExportModel(const v1::ExportModelRequest& request) {
  return ValidateModelKey(request.model_id(), request.model_name(),
                          request.key_case() != v1::ExportModelRequest::KEY_NOT_SET);
}

Status ValidateExtractStudent(const v1::ExtractStudentRequest& request) {
  HT_RETURN_IF_ERROR(
      ValidateModelKey(request.model_id(), request.model_name(),
                       request.teacher_case() != v1::ExtractStudentRequest::TEACHER_NOT_SET));
  const double r = request.target_ratio();
  if (!(r > 0 && r <= 1)) {
    return Status::InvalidArgument("target_ratio: must be in (0, 1], got " + std::to_string(r));
  }
  if (request.student_name().empty()) {
    return Status::InvalidArgument("student_name: required (the new model's name)");
  }
  return Status::Ok();
}

Status ValidateExportLayerGeometry(const v1::ExportLayerGeometryRequest& request) {
  if (request.max_points() > 1000000) {
    return Status::InvalidArgument("max_points: at most 1000000, got " +
                                   std::to_string(request.max_points()));
  }
  if (request.layer_id() == 0 && request.model_id() == 0 && request.model_name().empty()) {
    return Status::InvalidArgument("layer_id, or model_id or model_name with layer_idx: required");
  }
  return Status::Ok();
}

Status ValidateListModels(const v1::ListModelsRequest& request) {
  HT_RETURN_IF_ERROR(ValidatePageSize(request.page_size()));
  for (const FilterRule& rule : kFilterRules) {
    const std::string& value = (request.*rule.get)();
    if (value.size() > rule.max) {
      return Status::InvalidArgument(std::string(rule.field) + ": at most " +
                                     std::to_string(rule.max) + " bytes, got " +
                                     std::to_string(value.size()));
    }
  }
  if (!request.model_name().empty() && !request.name_prefix().empty()) {
    return Status::InvalidArgument("name_prefix: not with model_name (one name filter at most)");
  }
  return Status::Ok();
}

Status ValidateUpdateModel(const v1::UpdateModelRequest& request) {
  if (!request.has_model()) return Status::InvalidArgument("model: required");
  HT_RETURN_IF_ERROR(
      ValidateModelKey(request.model().model_id(), request.model().model_name(), true));
  const auto& updatable = engine::UpdatableModelPaths();
  for (const std::string& path : request.update_mask().paths()) {
    if (path == "*") {
      if (request.update_mask().paths_size() > 1) {
        return Status::InvalidArgument("update_mask: '*' must be the only path");
      }
      continue;
    }
    if (std::find(updatable.begin(), updatable.end(), path) == updatable.end()) {
      std::string known;
      for (const auto& p : updatable) known += (known.empty() ? "" : ", ") + p;
      return Status::InvalidArgument(
          "update_mask: '" + path + "' is not an updatable model field (updatable: " + known + ")");
    }
  }
  return Status::Ok();
}

Status ValidateListLayers(const v1::ListLayersRequest& request) {
  HT_RETURN_IF_ERROR(
      ValidateModelKey(request.model_id(), request.model_name(),
                       request.model_case() != v1::ListLayersRequest::MODEL_NOT_SET));
  return ValidatePageSize(request.page_size());
}

Status ValidateGetLayer(const v1::GetLayerRequest& request) {
  const bool by_model = request.model_id() != 0 || !request.model_name().empty();
  if (request.layer_id() != 0) {
    if (by_model || request.layer_idx() != 0) {
      return Status::InvalidArgument(
          "layer_id: not with model_id, model_name or layer_idx (one key at most)");
    }
    return Status::Ok();
  }
  if (!by_model) {
    return Status::InvalidArgument(
        "layer_id or model_id/model_name with layer_idx: one is required");
  }
  if (request.model_id() != 0 && !request.model_name().empty()) {
    return Status::InvalidArgument("model_name: not with model_id (one model key at most)");
  }
  return ValidateModelKey(request.model_id(), request.model_name(), true);
}

namespace {

template <typename Request>
Status ValidateLayerKeyOf(const Request& request, const std::string& prefix = "") {
  v1::GetLayerRequest key;
  key.set_layer_id(request.layer_id());
  key.set_model_id(request.model_id());
  key.set_model_name(request.model_name());
  key.set_layer_idx(request.layer_idx());
  Status status = ValidateGetLayer(key);
  if (status.ok() || prefix.empty()) return status;
  return Status::InvalidArgument(prefix + status.message());  // its only kind
}

}  // namespace

Status ValidateUpdateLayer(const v1::UpdateLayerRequest& request) {
  HT_RETURN_IF_ERROR(ValidateLayerKeyOf(request));
  if (!request.has_layer()) return Status::InvalidArgument("layer: required");
  if (request.update_mask().paths_size() == 0) {
    return Status::InvalidArgument("update_mask: required (the layer fields to change)");
  }
  const auto& updatable = engine::UpdatableLayerPaths();
  for (const std::string& path : request.update_mask().paths()) {
    if (std::find(updatable.begin(), updatable.end(), path) == updatable.end()) {
      std::string known;
      for (const auto& p : updatable) known += (known.empty() ? "" : ", ") + p;
      return Status::InvalidArgument(
          "update_mask: '" + path + "' is not an updatable layer field (updatable: " + known + ")");
    }
  }
  return Status::Ok();
}

Status ValidateDeleteLayer(const v1::DeleteLayerRequest& request) {
  return ValidateLayerKeyOf(request);
}

Status ValidateSetLayerValuesStart(const v1::SetLayerValuesRequest& first) {
  if (!first.has_start()) {
    return Status::InvalidArgument("start: required in the first message");
  }
  const v1::SetLayerValuesStart& start = first.start();
  HT_RETURN_IF_ERROR(ValidateLayerKeyOf(start, "start."));
  if (start.kind() != v1::LAYER_VALUE_KIND_IMPORTANCE &&
      start.kind() != v1::LAYER_VALUE_KIND_TEMPORAL) {
    return Status::InvalidArgument(
        "start.kind: must be LAYER_VALUE_KIND_IMPORTANCE or LAYER_VALUE_KIND_TEMPORAL, got " +
        std::to_string(static_cast<int>(start.kind())));
  }
  return Status::Ok();
}

}  // namespace hartonomous::rpc
