#include "server/rpc/inference/inference_service.h"

#include "base/clock.h"
#include "server/engine/common/paging.h"
#include "server/rpc/common/status_mapping.h"
#include "server/rpc/common/timestamp.h"
#include "server/rpc/inference/inference_convert.h"
#include "server/rpc/inference/inference_validation.h"

namespace hartonomous::rpc {
namespace {

Result<engine::InferenceInput> CheckedInput(const std::string& prefix,
                                            v1::LogInferenceRequest request) {
  HT_RETURN_IF_ERROR(ValidateLogInference(prefix, request));
  engine::InferenceInput input = ToInferenceInput(std::move(request));
  HT_RETURN_IF_ERROR(engine::CheckInference(prefix, NowMicros(), &input));
  return input;
}

}  // namespace

Status LogInferencesCollector::Add(v1::LogInferenceRequest& message, size_t index) {
  if (inputs_.size() >= engine::kMaxInferencesPerLog) {
    return Status::InvalidArgument("stream: at most " +
                                   std::to_string(engine::kMaxInferencesPerLog) +
                                   " inferences per LogInferences");
  }
  HT_ASSIGN_OR_RETURN(
      engine::InferenceInput input,
      CheckedInput("inferences[" + std::to_string(index) + "].", std::move(message)));
  inputs_.push_back(std::move(input));
  return Status::Ok();
}

void InferenceServiceImpl::LogInference(grpc::ServerContextBase*,
                                        const v1::LogInferenceRequest* request,
                                        v1::LogInferenceResponse* response, UnaryFinish finish) {
  auto input = CheckedInput("", *request);
  if (!input.ok()) return finish(ToGrpcStatus(input.status()));
  std::vector<engine::InferenceInput> inputs;
  inputs.push_back(std::move(*input));
  engine_.LogInferencesAsync(
      std::move(inputs), "",
      [response, finish = std::move(finish)](Result<std::vector<engine::LoggedInference>> logged) {
        if (!logged.ok()) return finish(ToGrpcStatus(logged.status()));
        ToProto(logged->front(), response);
        finish(grpc::Status::OK);
      });
}

std::unique_ptr<StreamCall> InferenceServiceImpl::LogInferences(
    grpc::CallbackServerContext*, v1::LogInferencesResponse* response) {
  return CollectStream<v1::LogInferenceRequest>(
      StreamLimits{limits_.max_stream_bytes}, LogInferencesCollector(),
      [this, response](LogInferencesCollector& inferences, UnaryFinish finish) {
        engine_.LogInferencesAsync(
            inferences.Take(), "inferences",
            ReplyLater<std::vector<engine::LoggedInference>>(response, std::move(finish), ToProto));
      });
}

grpc::Status InferenceServiceImpl::GetInference(grpc::ServerContextBase*,
                                                const v1::GetInferenceRequest* request,
                                                v1::Inference* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateGetInference(*request));
  return Reply(engine_.GetInference(request->inference_id()), response, ToProto);
}

grpc::Status InferenceServiceImpl::ListInferences(grpc::ServerContextBase*,
                                                  const v1::ListInferencesRequest* request,
                                                  v1::ListInferencesResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateListInferences(*request));
  engine::ResponseBudget budget(limits_.max_response_bytes);
  auto page = engine_.ListInferences(ToInferenceFilter(*request), request->include_text(),
                                     engine::EffectivePageSize(request->page_size()),
                                     request->page_token(), &budget);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const auto& view : page->inferences) ToProto(view, response->add_inferences());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status InferenceServiceImpl::GetInferenceAnalytics(
    grpc::ServerContextBase*, const v1::GetInferenceAnalyticsRequest* request,
    v1::GetInferenceAnalyticsResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateGetInferenceAnalytics(*request));
  return Reply(engine_.GetInferenceAnalytics(ToAnalyticsQuery(*request)), response, ToProto);
}

grpc::Status InferenceServiceImpl::PruneInferences(grpc::ServerContextBase*,
                                                   const v1::PruneInferencesRequest* request,
                                                   v1::PruneInferencesResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidatePruneInferences(*request));
  return Reply(engine_.PruneInferences(ToMicros(request->older_than())), response, ToProto);
}

void InferenceServiceImpl::PutActivation(grpc::ServerContextBase*,
                                         const v1::PutActivationRequest* request,
                                         v1::PutActivationResponse* response, UnaryFinish finish) {
  if (Status valid = ValidatePutActivation(*request); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  engine::ActivationInput input{request->layer_id(),
                                request->input_hash(),
                                {request->shape().begin(), request->shape().end()},
                                request->dtype(),
                                request->data(),
                                request->compute_time_ms()};
  engine_.PutActivationAsync(std::move(input), ReplyLater<storage::ModelLayerRecord>(
                                                   response, std::move(finish), ToProto));
}

void InferenceServiceImpl::GetActivation(grpc::ServerContextBase*,
                                         const v1::GetActivationRequest* request,
                                         v1::GetActivationResponse* response, UnaryFinish finish) {
  if (Status valid = ValidateGetActivation(*request); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  engine_.GetActivationAsync(
      request->layer_id(), request->input_hash(),
      ReplyLater<engine::ActivationLookup>(response, std::move(finish), ToProto));
}

}  // namespace hartonomous::rpc
