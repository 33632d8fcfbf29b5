#include "server/rpc/inference/inference_validation.h"

#include <cmath>

#include "server/rpc/common/validation.h"

namespace hartonomous::rpc {
namespace {

// 9999-12-31T23:59:59Z, the largest google.protobuf.Timestamp.
constexpr int64_t kMaxTimestampSeconds = 253402300799;
// Durations become integer microseconds: at most about 31 years.
constexpr double kMaxDurationMs = 1e12;

Status ValidateTimestamp(const std::string& field, const google::protobuf::Timestamp& ts) {
  if (ts.seconds() > kMaxTimestampSeconds || ts.nanos() < 0 || ts.nanos() > 999999999) {
    return Status::InvalidArgument(field + ": not a valid timestamp (at most 9999-12-31)");
  }
  if (ts.seconds() < 0) return Status::InvalidArgument(field + ": must not be before 1970-01-01");
  return Status::Ok();
}

Status ValidateDurationMs(const std::string& field, double ms) {
  if (!std::isfinite(ms)) return Status::InvalidArgument(field + ": must be finite");
  if (ms < 0) return Status::InvalidArgument(field + ": must not be negative");
  if (ms > kMaxDurationMs) {
    return Status::InvalidArgument(field + ": at most 1e12 ms");
  }
  return Status::Ok();
}

Status ValidateInputHash(const std::string& hash) {
  if (hash.size() != 32) {
    return Status::InvalidArgument("input_hash: must be 32 bytes (a SHA-256), got " +
                                   std::to_string(hash.size()));
  }
  return Status::Ok();
}

Status ValidateLayerId(uint64_t layer_id) {
  if (layer_id == 0) return Status::InvalidArgument("layer_id: required, must be > 0");
  return Status::Ok();
}

}  // namespace

Status ValidateLogInference(const std::string& prefix, const v1::LogInferenceRequest& request) {
  if (request.has_start_time()) {
    HT_RETURN_IF_ERROR(ValidateTimestamp(prefix + "start_time", request.start_time()));
  }
  if (request.has_end_time()) {
    HT_RETURN_IF_ERROR(ValidateTimestamp(prefix + "end_time", request.end_time()));
  }
  if (request.has_duration_ms()) {
    HT_RETURN_IF_ERROR(ValidateDurationMs(prefix + "duration_ms", request.duration_ms()));
  }
  for (int i = 0; i < request.steps_size(); ++i) {
    const auto& step = request.steps(i);
    const std::string field = prefix + "steps[" + std::to_string(i) + "].";
    if (step.step_index() < 0) {
      return Status::InvalidArgument(field + "step_index: must not be negative, got " +
                                     std::to_string(step.step_index()));
    }
    HT_RETURN_IF_ERROR(ValidateDurationMs(field + "duration_ms", step.duration_ms()));
  }
  return Status::Ok();
}

Status ValidateGetInference(const v1::GetInferenceRequest& request) {
  if (request.inference_id() == 0) {
    return Status::InvalidArgument("inference_id: required, must be > 0");
  }
  return Status::Ok();
}

Status ValidateListInferences(const v1::ListInferencesRequest& request) {
  HT_RETURN_IF_ERROR(ValidatePageSize(request.page_size()));
  if (request.has_start_time_from()) {
    HT_RETURN_IF_ERROR(ValidateTimestamp("start_time_from", request.start_time_from()));
  }
  if (request.has_start_time_to()) {
    HT_RETURN_IF_ERROR(ValidateTimestamp("start_time_to", request.start_time_to()));
  }
  if (request.task_type().size() > 64) {
    return Status::InvalidArgument("task_type: at most 64 bytes");
  }
  return Status::Ok();
}

Status ValidateGetInferenceAnalytics(const v1::GetInferenceAnalyticsRequest& request) {
  if (request.has_from()) HT_RETURN_IF_ERROR(ValidateTimestamp("from", request.from()));
  if (request.has_to()) HT_RETURN_IF_ERROR(ValidateTimestamp("to", request.to()));
  if (!v1::AnalyticsGroupBy_IsValid(request.group_by())) {
    return Status::InvalidArgument("group_by: unknown value " + std::to_string(request.group_by()));
  }
  if (!v1::AnalyticsBucket_IsValid(request.bucket())) {
    return Status::InvalidArgument("bucket: unknown value " + std::to_string(request.bucket()));
  }
  if (!v1::AnalyticsSortBy_IsValid(request.sort_by())) {
    return Status::InvalidArgument("sort_by: unknown value " + std::to_string(request.sort_by()));
  }
  if (request.task_type().size() > 64) {
    return Status::InvalidArgument("task_type: at most 64 bytes");
  }
  return Status::Ok();
}

Status ValidatePruneInferences(const v1::PruneInferencesRequest& request) {
  if (!request.has_older_than()) return Status::InvalidArgument("older_than: required");
  return ValidateTimestamp("older_than", request.older_than());
}

Status ValidatePutActivation(const v1::PutActivationRequest& request) {
  HT_RETURN_IF_ERROR(ValidateLayerId(request.layer_id()));
  HT_RETURN_IF_ERROR(ValidateInputHash(request.input_hash()));
  if (request.shape_size() > 16) {
    return Status::InvalidArgument("shape: at most 16 dimensions");
  }
  if (request.dtype().size() > 16) return Status::InvalidArgument("dtype: at most 16 bytes");
  return ValidateDurationMs("compute_time_ms", request.compute_time_ms());
}

Status ValidateGetActivation(const v1::GetActivationRequest& request) {
  HT_RETURN_IF_ERROR(ValidateLayerId(request.layer_id()));
  return ValidateInputHash(request.input_hash());
}

}  // namespace hartonomous::rpc
