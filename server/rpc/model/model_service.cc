#include "server/rpc/model/model_service.h"

#include "server/engine/common/paging.h"
#include "server/rpc/common/status_mapping.h"
#include "server/rpc/model/model_convert.h"
#include "server/rpc/model/model_server_streams.h"
#include "server/rpc/model/model_streams.h"
#include "server/rpc/model/model_validation.h"

namespace hartonomous::rpc {
namespace {

template <typename Request>
engine::ModelKey KeyOf(const Request& request) {
  return engine::ModelKey{request.model_id(), request.model_name()};
}

}  // namespace

void ModelServiceImpl::CreateModel(grpc::ServerContextBase*, const v1::CreateModelRequest* request,
                                   v1::Model* response, UnaryFinish finish) {
  if (Status valid = ValidateCreateModel(*request); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  std::vector<storage::ModelLayerRecord> layers;
  layers.reserve(static_cast<size_t>(request->layers_size()));
  for (const auto& layer : request->layers()) layers.push_back(ToLayerRecord(layer));
  engine_.CreateModelAsync(ToModelView(request->model()), std::move(layers),
                           ReplyLater<engine::ModelView>(response, std::move(finish), ToProto));
}

grpc::Status ModelServiceImpl::GetModel(grpc::ServerContextBase*,
                                        const v1::GetModelRequest* request, v1::Model* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateGetModel(*request));
  return Reply(engine_.GetModel(KeyOf(*request)), response, ToProto);
}

grpc::Status ModelServiceImpl::ListModels(grpc::ServerContextBase*,
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

void ModelServiceImpl::UpdateModel(grpc::ServerContextBase*, const v1::UpdateModelRequest* request,
                                   v1::Model* response, UnaryFinish finish) {
  if (Status valid = ValidateUpdateModel(*request); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  const v1::Model& model = request->model();
  // With an id, model_name may carry a new name; without one it is the key.
  engine::ModelKey key{model.model_id(), model.model_id() == 0 ? model.model_name() : ""};
  engine_.UpdateModelAsync(std::move(key), ToModelPatch(model, request->update_mask()),
                           ReplyLater<engine::ModelView>(response, std::move(finish), ToProto));
}

void ModelServiceImpl::DeleteModel(grpc::ServerContextBase*, const v1::DeleteModelRequest* request,
                                   v1::DeleteModelResponse* response, UnaryFinish finish) {
  if (Status valid = ValidateDeleteModel(*request); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  engine_.DeleteModelAsync(KeyOf(*request),
                           ReplyLater<engine::DeletedModel>(response, std::move(finish), ToProto));
}

grpc::Status ModelServiceImpl::ListLayers(grpc::ServerContextBase*,
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

grpc::Status ModelServiceImpl::GetLayer(grpc::ServerContextBase*,
                                        const v1::GetLayerRequest* request,
                                        v1::ModelLayer* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateGetLayer(*request));
  engine::LayerKey key{
      request->layer_id(), {request->model_id(), request->model_name()}, request->layer_idx()};
  return Reply(engine_.GetLayer(key), response, ToProto);
}

std::unique_ptr<StreamCall> ModelServiceImpl::ImportModel(grpc::CallbackServerContext*,
                                                          v1::ImportModelResponse* response) {
  return CollectStream<v1::ImportModelRequest>(
      ModelStreamLimits(), ImportModelCollector(engine_),
      [response](ImportModelCollector& import, UnaryFinish finish) {
        finish(Reply(import.Commit(), response, ToProto));
      });
}

std::unique_ptr<StreamCall> ModelServiceImpl::SetLayerValues(grpc::CallbackServerContext*,
                                                             v1::SetLayerValuesResponse* response) {
  return CollectStream<v1::SetLayerValuesRequest>(
      ModelStreamLimits(), LayerValuesCollector(engine_),
      [response](LayerValuesCollector& values, UnaryFinish finish) {
        finish(Reply(values.Commit(), response, ToProto));
      });
}

void ModelServiceImpl::UpdateLayer(grpc::ServerContextBase*, const v1::UpdateLayerRequest* request,
                                   v1::ModelLayer* response, UnaryFinish finish) {
  if (Status valid = ValidateUpdateLayer(*request); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  engine::LayerKey key{
      request->layer_id(), {request->model_id(), request->model_name()}, request->layer_idx()};
  engine_.UpdateLayerAsync(
      std::move(key), ToLayerPatch(request->layer(), request->update_mask()),
      ReplyLater<storage::ModelLayerRecord>(response, std::move(finish), ToProto));
}

void ModelServiceImpl::DeleteLayer(grpc::ServerContextBase*, const v1::DeleteLayerRequest* request,
                                   v1::DeleteLayerResponse* response, UnaryFinish finish) {
  if (Status valid = ValidateDeleteLayer(*request); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  engine::LayerKey key{
      request->layer_id(), {request->model_id(), request->model_name()}, request->layer_idx()};
  engine_.DeleteLayerAsync(std::move(key),
                           ReplyLater<engine::DeletedLayer>(response, std::move(finish), ToProto));
}

std::unique_ptr<StreamProducer<v1::ExportModelResponse>> ModelServiceImpl::ExportModel(
    const v1::ExportModelRequest& request) {
  return std::make_unique<ExportModelProducer>(engine_, request);
}

grpc::Status ModelServiceImpl::QuantizeModel(grpc::ServerContextBase*,
                                             const v1::QuantizeModelRequest* request,
                                             v1::QuantizeModelResponse* response) {
  auto quantize = ToQuantizeRequest(*request);
  if (!quantize.ok()) return ToGrpcStatus(quantize.status());
  return Reply(engine_.QuantizeModel(*quantize), response, ToProto);
}

grpc::Status ModelServiceImpl::ExtractStudent(grpc::ServerContextBase*,
                                              const v1::ExtractStudentRequest* request,
                                              v1::ExtractStudentResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateExtractStudent(*request));
  return Reply(
      engine_.ExtractStudent(KeyOf(*request), request->target_ratio(), request->student_name()),
      response, ToProto);
}

std::unique_ptr<StreamProducer<v1::LayerGeometry>> ModelServiceImpl::ExportLayerGeometry(
    const v1::ExportLayerGeometryRequest& request) {
  return std::make_unique<LayerGeometryProducer>(engine_, request);
}

}  // namespace hartonomous::rpc
