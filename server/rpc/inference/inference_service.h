// InferenceServiceImpl: hartonomous.v1.InferenceService over
// engine::InferenceEngine. Each handler validates (inference_validation.h),
// converts (inference_convert.h), calls the engine and maps the Status.
// LogInferences is a callback client stream (rpc/common/client_stream_reactor.h)
// read into LogInferencesCollector; it logs the whole stream in one engine
// call answered from its commit: a stream that fails stores nothing.
//
// Thread-safety: thread-safe (the engine is).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "hartonomous/v1/inference_service.grpc.pb.h"
#include "server/engine/inference/inference_engine.h"
#include "server/rpc/common/client_stream_reactor.h"
#include "server/rpc/common/long_call.h"
#include "server/rpc/common/unary_callback.h"

namespace hartonomous::rpc {

struct InferenceLimits {
  // Largest response of a read RPC. Default: 256 MiB (--max-response-bytes).
  size_t max_response_bytes = size_t{256} << 20;
  // Largest LogInferences stream. Default: 256 MiB (--max-batch-bytes).
  size_t max_stream_bytes = size_t{256} << 20;
};

// The messages of one LogInferences stream, each validated and checked as
// the engine requires (fields named "inferences[i].").
class LogInferencesCollector final : public StreamCollector<v1::LogInferenceRequest> {
 public:
  Status Add(v1::LogInferenceRequest& message, size_t index) override;
  std::vector<engine::InferenceInput> Take() { return std::move(inputs_); }

 private:
  std::vector<engine::InferenceInput> inputs_;
};

class InferenceServiceImpl final : public v1::InferenceService::Service {
 public:
  // work: runs LogInferences' end (encoding the rows); long_calls:
  // PruneInferences.
  InferenceServiceImpl(engine::InferenceEngine& engine, InferenceLimits limits, WorkPool& work,
                       CallThreads& long_calls)
      : engine_(engine), limits_(limits) {
    MarkMethodCallback(
        ClientStreamMethodIndex(v1::InferenceService::service_full_name(), "LogInferences"),
        CallbackClientStream(&InferenceServiceImpl::LogInferences, this,
                             {&work, StreamWork::kEnd}));
    // Unary reads are served through the callback API (unary_callback.h),
    // and so are LogInference, PutActivation and GetActivation, answered
    // from their commit (CallbackUnaryAsync); PruneInferences runs on a
    // thread of its own (long_call.h).
    MarkMethodCallback(
        UnaryMethodIndex(v1::InferenceService::service_full_name(), "PruneInferences"),
        CallbackLongUnary(&InferenceServiceImpl::PruneInferences, this, &long_calls));
    MarkMethodCallback(UnaryMethodIndex(v1::InferenceService::service_full_name(), "LogInference"),
                       CallbackUnaryAsync(&InferenceServiceImpl::LogInference, this));
    MarkMethodCallback(UnaryMethodIndex(v1::InferenceService::service_full_name(), "GetInference"),
                       CallbackUnary(&InferenceServiceImpl::GetInference, this));
    MarkMethodCallback(
        UnaryMethodIndex(v1::InferenceService::service_full_name(), "ListInferences"),
        CallbackUnary(&InferenceServiceImpl::ListInferences, this));
    MarkMethodCallback(
        UnaryMethodIndex(v1::InferenceService::service_full_name(), "GetInferenceAnalytics"),
        CallbackUnary(&InferenceServiceImpl::GetInferenceAnalytics, this));
    // GetActivation writes (hit counts): answered from its commit too.
    MarkMethodCallback(UnaryMethodIndex(v1::InferenceService::service_full_name(), "GetActivation"),
                       CallbackUnaryAsync(&InferenceServiceImpl::GetActivation, this));
    MarkMethodCallback(UnaryMethodIndex(v1::InferenceService::service_full_name(), "PutActivation"),
                       CallbackUnaryAsync(&InferenceServiceImpl::PutActivation, this));
  }

  // Answered after the row's group commit, by finish.
  void LogInference(grpc::ServerContextBase*, const v1::LogInferenceRequest* request,
                    v1::LogInferenceResponse* response, UnaryFinish finish);
  std::unique_ptr<StreamCall> LogInferences(grpc::CallbackServerContext* context,
                                            v1::LogInferencesResponse* response);
  grpc::Status GetInference(grpc::ServerContextBase*, const v1::GetInferenceRequest* request,
                            v1::Inference* response);
  grpc::Status ListInferences(grpc::ServerContextBase*, const v1::ListInferencesRequest* request,
                              v1::ListInferencesResponse* response);
  grpc::Status GetInferenceAnalytics(grpc::ServerContextBase*,
                                     const v1::GetInferenceAnalyticsRequest* request,
                                     v1::GetInferenceAnalyticsResponse* response);
  grpc::Status PruneInferences(grpc::ServerContextBase*, const v1::PruneInferencesRequest* request,
                               v1::PruneInferencesResponse* response);
  // Answered after their group commit, by finish.
  void PutActivation(grpc::ServerContextBase*, const v1::PutActivationRequest* request,
                     v1::PutActivationResponse* response, UnaryFinish finish);
  void GetActivation(grpc::ServerContextBase*, const v1::GetActivationRequest* request,
                     v1::GetActivationResponse* response, UnaryFinish finish);

 private:
  engine::InferenceEngine& engine_;
  const InferenceLimits limits_;
};

}  // namespace hartonomous::rpc
