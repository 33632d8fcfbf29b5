#include "server/rpc/model/model_service.h"

#include "server/engine/common/paging.h"
#include "server/rpc/common/status_mapping.h"
#include "server/rpc/model/model_convert.h"
#include "server/rpc/model/model_validation.h"

namespace hartonomous::rpc {
namespace {

template <typename Request>
engine::ModelKey KeyOf(const Request& request) {
  return engine::ModelKey{request.model_id(), request.model_name()};
}

}  // namespace

grpc::Status ModelServiceImpl::CreateModel(grpc::ServerContext*,
                                           const v1::CreateModelRequest* request,
                                           v1::Model* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateCreateModel(*request));
  std::vector<storage::ModelLayerRecord> layers;
  layers.reserve(static_cast<size_t>(request->layers_size()));
  for (const auto& layer : request->layers()) layers.push_back(ToLayerRecord(layer));
  return Reply(engine_.CreateModel(ToModelView(request->model()), std::move(layers)), response,
               ToProto);
}

grpc::Status ModelServiceImpl::GetModel(grpc::ServerContext*, const v1::GetModelRequest* request,
                                        v1::Model* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateGetModel(*request));
  return Reply(engine_.GetModel(KeyOf(*request)), response, ToProto);
}

grpc::Status ModelServiceImpl::ListModels(grpc::ServerContext*,
                                          const v1::ListModelsRequest* request,
                                          v1::ListModelsResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateListModels(*request));
  engine::ModelFilter filter{request->model_name(), request->name_prefix(), request->model_type(),
                             request->architecture()};
  engine::ResponseBudget budget(limits_.max_response_bytes);
  auto page = engine_.ListModels(filter, engine::EffectivePageSize(request->page_size()),
                                 request->page_token(), &budget);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const auto& model : page->models) ToProto(model, response->add_models());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status ModelServiceImpl::UpdateModel(grpc::ServerContext*,
                                           const v1::UpdateModelRequest* request,
                                           v1::Model* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateUpdateModel(*request));
  const v1::Model& model = request->model();
  // With an id, model_name may carry a new name; without one it is the key.
  engine::ModelKey key{model.model_id(), model.model_id() == 0 ? model.model_name() : ""};
  return Reply(engine_.UpdateModel(key, ToModelPatch(model, request->update_mask())), response,
               ToProto);
}

grpc::Status ModelServiceImpl::DeleteModel(grpc::ServerContext*,
                                           const v1::DeleteModelRequest* request,
                                           v1::DeleteModelResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateDeleteModel(*request));
  return Reply(engine_.DeleteModel(KeyOf(*request)), response, ToProto);
}

grpc::Status ModelServiceImpl::ListLayers(grpc::ServerContext*,
                                          const v1::ListLayersRequest* request,
                                          v1::ListLayersResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateListLayers(*request));
  engine::ResponseBudget budget(limits_.max_response_bytes);
  auto page = engine_.ListLayers(KeyOf(*request), engine::EffectivePageSize(request->page_size()),
                                 request->page_token(), &budget);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const auto& layer : page->layers) ToProto(layer, response->add_layers());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status ModelServiceImpl::GetLayer(grpc::ServerContext*, const v1::GetLayerRequest* request,
                                        v1::ModelLayer* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateGetLayer(*request));
  engine::LayerKey key{
      request->layer_id(), {request->model_id(), request->model_name()}, request->layer_idx()};
  return Reply(engine_.GetLayer(key), response, ToProto);
}

}  // namespace hartonomous::rpc
