// ModelServiceImpl: hartonomous.v1.ModelService over engine::ModelEngine.
// Each handler validates (model_validation.h), converts (model_convert.h),
// calls the engine and maps the Status.
//
// Thread-safety: thread-safe (the engine is).
#pragma once

#include <cstddef>

#include "hartonomous/v1/model_service.grpc.pb.h"
#include "server/engine/models/model_engine.h"
#include "server/rpc/common/client_stream_reactor.h"
#include "server/rpc/common/long_call.h"
#include "server/rpc/common/server_stream_reactor.h"
#include "server/rpc/common/unary_callback.h"

namespace hartonomous::rpc {

struct ModelLimits {
  // Largest response of a read RPC (engine::ResponseBudget). Default:
  // 256 MiB (--max-response-bytes).
  size_t max_response_bytes = size_t{256} << 20;
  // Largest model file ImportModel takes (all its stream's bytes).
  // Default: 256 GiB (--max-model-bytes).
  size_t max_model_bytes = size_t{256} << 30;
};

class ModelServiceImpl final : public v1::ModelService::Service {
 public:
  // work: runs the client streams' messages and ends (parsing, hashing
  // and staging a model's bytes, committing) and reads the exports and
  // geometry pages; long_calls: QuantizeModel and ExtractStudent.
  ModelServiceImpl(engine::ModelEngine& engine, ModelLimits limits, WorkPool& work,
                   CallThreads& long_calls)
      : engine_(engine), limits_(limits) {
    MarkMethodCallback(
        ClientStreamMethodIndex(v1::ModelService::service_full_name(), "ImportModel"),
        CallbackClientStream(&ModelServiceImpl::ImportModel, this,
                             {&work, StreamWork::kEveryMessage}));
    MarkMethodCallback(
        ClientStreamMethodIndex(v1::ModelService::service_full_name(), "SetLayerValues"),
        CallbackClientStream(&ModelServiceImpl::SetLayerValues, this,
                             {&work, StreamWork::kEveryMessage}));
    MarkMethodCallback(
        ServerStreamMethodIndex(v1::ModelService::service_full_name(), "ExportModel"),
        CallbackServerStream(&ModelServiceImpl::ExportModel, this, &work));
    MarkMethodCallback(
        ServerStreamMethodIndex(v1::ModelService::service_full_name(), "ExportLayerGeometry"),
        CallbackServerStream(&ModelServiceImpl::ExportLayerGeometry, this, &work));
    // Quantization and extraction run on a thread of their own (long_call.h).
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "QuantizeModel"),
                       CallbackLongUnary(&ModelServiceImpl::QuantizeModel, this, &long_calls));
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "ExtractStudent"),
                       CallbackLongUnary(&ModelServiceImpl::ExtractStudent, this, &long_calls));
    // Unary reads are served through the callback API (unary_callback.h),
    // and so are the model writes, answered from their commit
    // (CallbackUnaryAsync), and so are the layer writes.
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "CreateModel"),
                       CallbackUnaryAsync(&ModelServiceImpl::CreateModel, this));
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "UpdateModel"),
                       CallbackUnaryAsync(&ModelServiceImpl::UpdateModel, this));
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "DeleteModel"),
                       CallbackUnaryAsync(&ModelServiceImpl::DeleteModel, this));
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "UpdateLayer"),
                       CallbackUnaryAsync(&ModelServiceImpl::UpdateLayer, this));
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "DeleteLayer"),
                       CallbackUnaryAsync(&ModelServiceImpl::DeleteLayer, this));
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "GetModel"),
                       CallbackUnary(&ModelServiceImpl::GetModel, this));
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "ListModels"),
                       CallbackUnary(&ModelServiceImpl::ListModels, this));
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "ListLayers"),
                       CallbackUnary(&ModelServiceImpl::ListLayers, this));
    MarkMethodCallback(UnaryMethodIndex(v1::ModelService::service_full_name(), "GetLayer"),
                       CallbackUnary(&ModelServiceImpl::GetLayer, this));
  }

  // The model writes are answered after their group commit, by finish.
  void CreateModel(grpc::ServerContextBase*, const v1::CreateModelRequest* request,
                   v1::Model* response, UnaryFinish finish);
  grpc::Status GetModel(grpc::ServerContextBase*, const v1::GetModelRequest* request,
                        v1::Model* response);
  grpc::Status ListModels(grpc::ServerContextBase*, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response);
  void UpdateModel(grpc::ServerContextBase*, const v1::UpdateModelRequest* request,
                   v1::Model* response, UnaryFinish finish);
  void DeleteModel(grpc::ServerContextBase*, const v1::DeleteModelRequest* request,
                   v1::DeleteModelResponse* response, UnaryFinish finish);
  grpc::Status ListLayers(grpc::ServerContextBase*, const v1::ListLayersRequest* request,
                          v1::ListLayersResponse* response);
  grpc::Status GetLayer(grpc::ServerContextBase*, const v1::GetLayerRequest* request,
                        v1::ModelLayer* response);
  // A callback client stream (client_stream_reactor.h) whose messages go,
  // on the work pool, to the engine's import as they arrive
  // (ImportModelCollector, model_streams.h); a stream that fails or is
  // cancelled abandons the import.
  std::unique_ptr<StreamCall> ImportModel(grpc::CallbackServerContext* context,
                                          v1::ImportModelResponse* response);
  // A callback server stream (server_stream_reactor.h): the file is read
  // batch by batch on the work pool as the client takes it
  // (ExportModelProducer, model_server_streams.h).
  std::unique_ptr<StreamProducer<v1::ExportModelResponse>> ExportModel(
      const v1::ExportModelRequest& request);
  grpc::Status QuantizeModel(grpc::ServerContextBase*, const v1::QuantizeModelRequest* request,
                             v1::QuantizeModelResponse* response);
  grpc::Status ExtractStudent(grpc::ServerContextBase*, const v1::ExtractStudentRequest* request,
                              v1::ExtractStudentResponse* response);
  // As ImportModel: each message's values go to the engine's writer as
  // they arrive (LayerValuesCollector); a stream that fails or is cancelled
  // releases what was staged.
  std::unique_ptr<StreamCall> SetLayerValues(grpc::CallbackServerContext* context,
                                             v1::SetLayerValuesResponse* response);
  // The layer writes are answered after their group commit, by finish.
  void UpdateLayer(grpc::ServerContextBase*, const v1::UpdateLayerRequest* request,
                   v1::ModelLayer* response, UnaryFinish finish);
  void DeleteLayer(grpc::ServerContextBase*, const v1::DeleteLayerRequest* request,
                   v1::DeleteLayerResponse* response, UnaryFinish finish);
  // A callback server stream: one page read in one transaction, sent run by
  // run (LayerGeometryProducer, model_server_streams.h).
  std::unique_ptr<StreamProducer<v1::LayerGeometry>> ExportLayerGeometry(
      const v1::ExportLayerGeometryRequest& request);

 private:
  // The client streams' bound: --max-model-bytes per stream.
  StreamLimits ModelStreamLimits() const {
    StreamLimits limits;
    limits.max_bytes = limits_.max_model_bytes;
    limits.flag = "--max-model-bytes";
    return limits;
  }

  engine::ModelEngine& engine_;
  const ModelLimits limits_;
};

}  // namespace hartonomous::rpc
