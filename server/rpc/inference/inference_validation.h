// Validation of hartonomous.v1.InferenceService requests: what must be
// checked before conversion (timestamps that fit in microseconds, doubles
// that become integers, negative step indexes, hash sizes, page sizes).
// The field rules of an inference itself (ranges, JSON, UTF-8, steps,
// GenAI attributes) are the engine's (engine::CheckInference), run on every
// log; messages name the field and the rule either way.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "base/status.h"
#include "hartonomous/v1/inference_service.pb.h"

namespace hartonomous::rpc {

// prefix: "" for LogInference, "inferences[i]." for a stream message.
Status ValidateLogInference(const std::string& prefix, const v1::LogInferenceRequest& request);
Status ValidateGetInference(const v1::GetInferenceRequest& request);
Status ValidateListInferences(const v1::ListInferencesRequest& request);
Status ValidateGetInferenceAnalytics(const v1::GetInferenceAnalyticsRequest& request);
Status ValidatePruneInferences(const v1::PruneInferencesRequest& request);
Status ValidatePutActivation(const v1::PutActivationRequest& request);
Status ValidateGetActivation(const v1::GetActivationRequest& request);

}  // namespace hartonomous::rpc
