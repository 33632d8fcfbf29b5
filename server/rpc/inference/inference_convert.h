// Conversions between hartonomous.v1.InferenceService messages and the
// inference engine's types. Times: google.protobuf.Timestamp <-> micros
// since the epoch; durations: milliseconds (double) <-> micros (rounded).
//
// Thread-safety: pure functions.
#pragma once

#include "hartonomous/v1/inference_service.pb.h"
#include "server/engine/inference/inference_engine.h"

namespace hartonomous::rpc {

// REQUIRES: ValidateLogInference passed.
engine::InferenceInput ToInferenceInput(v1::LogInferenceRequest&& request);
engine::AnalyticsQuery ToAnalyticsQuery(const v1::GetInferenceAnalyticsRequest& request);
engine::InferenceFilter ToInferenceFilter(const v1::ListInferencesRequest& request);

void ToProto(const engine::LoggedInference& logged, v1::LogInferenceResponse* out);
void ToProto(const std::vector<engine::LoggedInference>& logged, v1::LogInferencesResponse* out);
void ToProto(const engine::InferenceView& view, v1::Inference* out);
void ToProto(const engine::Analytics& analytics, v1::GetInferenceAnalyticsResponse* out);
void ToProto(const engine::PruneSummary& summary, v1::PruneInferencesResponse* out);
void ToProto(const storage::ModelLayerRecord& layer, v1::PutActivationResponse* out);
void ToProto(const engine::ActivationLookup& lookup, v1::GetActivationResponse* out);

}  // namespace hartonomous::rpc
