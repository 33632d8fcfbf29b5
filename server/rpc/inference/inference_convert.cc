#include "server/rpc/inference/inference_convert.h"

#include <cmath>

#include "server/rpc/common/timestamp.h"

namespace hartonomous::rpc {
namespace {

int64_t MsToMicros(double ms) { return std::llround(ms * 1000.0); }

}  // namespace

engine::InferenceInput ToInferenceInput(v1::LogInferenceRequest&& r) {
  engine::InferenceInput in;
  in.model_id = r.model_id();
  in.model_name = std::move(*r.mutable_model_name());
  in.task_type = std::move(*r.mutable_task_type());
  if (r.has_input_text()) in.input_text = std::move(*r.mutable_input_text());
  if (r.has_output_text()) in.output_text = std::move(*r.mutable_output_text());
  in.input_vector.assign(r.input_vector().begin(), r.input_vector().end());
  if (r.has_confidence()) in.confidence = r.confidence();
  if (r.has_temperature()) in.temperature = r.temperature();
  if (r.has_start_time()) in.start_us = ToMicros(r.start_time());
  if (r.has_end_time()) in.end_us = ToMicros(r.end_time());
  if (r.has_duration_ms()) in.duration_us = MsToMicros(r.duration_ms());
  if (r.has_input_tokens()) in.input_tokens = r.input_tokens();
  if (r.has_output_tokens()) in.output_tokens = r.output_tokens();
  in.metadata = std::move(*r.mutable_metadata());
  for (auto& step : *r.mutable_steps()) {
    storage::InferenceStepRecord s;
    s.set_step_index(static_cast<uint32_t>(step.step_index()));
    s.set_step_name(std::move(*step.mutable_step_name()));
    s.set_step_kind(std::move(*step.mutable_step_kind()));
    s.set_duration_us(MsToMicros(step.duration_ms()));
    s.set_metadata(std::move(*step.mutable_metadata()));
    in.steps.push_back(std::move(s));
  }
  in.request_id = std::move(*r.mutable_request_id());
  in.provider = std::move(*r.mutable_provider());
  in.response_model = std::move(*r.mutable_response_model());
  in.attributes.insert(r.attributes().begin(), r.attributes().end());
  return in;
}

engine::AnalyticsQuery ToAnalyticsQuery(const v1::GetInferenceAnalyticsRequest& r) {
  engine::AnalyticsQuery q;
  if (r.has_from()) q.from_us = ToMicros(r.from());
  if (r.has_to()) q.to_us = ToMicros(r.to());
  q.group = r.group_by() == v1::ANALYTICS_GROUP_BY_TASK_TYPE ? engine::AnalyticsGroup::kTaskType
                                                             : engine::AnalyticsGroup::kModel;
  switch (r.bucket()) {
    case v1::ANALYTICS_BUCKET_MINUTE:
      q.series = engine::AnalyticsSeries::kMinute;
      break;
    case v1::ANALYTICS_BUCKET_HOUR:
      q.series = engine::AnalyticsSeries::kHour;
      break;
    case v1::ANALYTICS_BUCKET_DAY:
      q.series = engine::AnalyticsSeries::kDay;
      break;
    default:
      q.series = engine::AnalyticsSeries::kNone;
      break;
  }
  if (r.has_model_id()) q.model_id = r.model_id();
  q.task_type = r.task_type();
  static const engine::AnalyticsColumn kColumns[] = {
      engine::AnalyticsColumn::kCount,       engine::AnalyticsColumn::kAvgDuration,
      engine::AnalyticsColumn::kP50,         engine::AnalyticsColumn::kP95,
      engine::AnalyticsColumn::kP99,         engine::AnalyticsColumn::kAvgConfidence,
      engine::AnalyticsColumn::kInputTokens, engine::AnalyticsColumn::kOutputTokens,
      engine::AnalyticsColumn::kKey};
  q.sort_by = kColumns[r.sort_by()];
  q.descending = !r.ascending();
  return q;
}

engine::InferenceFilter ToInferenceFilter(const v1::ListInferencesRequest& r) {
  engine::InferenceFilter f;
  if (r.has_model_id()) f.model_id = r.model_id();
  f.task_type = r.task_type();
  if (r.has_start_time_from()) f.from_us = ToMicros(r.start_time_from());
  if (r.has_start_time_to()) f.to_us = ToMicros(r.start_time_to());
  return f;
}

void ToProto(const engine::LoggedInference& logged, v1::LogInferenceResponse* out) {
  out->set_inference_id(logged.inference_id);
  out->set_already_logged(logged.already_logged);
}

void ToProto(const std::vector<engine::LoggedInference>& logged, v1::LogInferencesResponse* out) {
  for (const auto& one : logged) {
    out->add_inference_ids(one.inference_id);
    if (one.already_logged) {
      out->set_already_logged(out->already_logged() + 1);
    } else {
      out->set_logged(out->logged() + 1);
    }
  }
}

void ToProto(const engine::InferenceView& view, v1::Inference* out) {
  const storage::InferenceRecord& r = view.record;
  out->set_inference_id(r.inference_id());
  out->set_model_id(r.model_id());
  out->set_task_type(r.task_type());
  if (view.input_text) out->set_input_text(*view.input_text);
  if (view.output_text) out->set_output_text(*view.output_text);
  *out->mutable_input_vector() = r.input_vector();
  if (r.has_confidence()) out->set_confidence(r.confidence());
  ToTimestamp(r.start_us(), out->mutable_start_time());
  ToTimestamp(r.end_us(), out->mutable_end_time());
  out->set_duration_ms(static_cast<double>(r.duration_us()) / 1000.0);
  out->set_input_tokens(r.input_tokens());
  out->set_output_tokens(r.output_tokens());
  if (r.has_temperature()) out->set_temperature(r.temperature());
  out->set_metadata(r.metadata());
  for (const auto& step : r.steps()) {
    auto* s = out->add_steps();
    s->set_step_index(static_cast<int32_t>(step.step_index()));
    s->set_step_name(step.step_name());
    s->set_step_kind(step.step_kind());
    s->set_duration_ms(static_cast<double>(step.duration_us()) / 1000.0);
    s->set_metadata(step.metadata());
  }
  out->set_request_id(r.request_id());
  out->set_provider(r.provider());
  out->set_response_model(r.response_model());
  out->mutable_attributes()->insert(r.attributes().begin(), r.attributes().end());
  ToTimestamp(r.logged_at_us(), out->mutable_logged_at());
  out->set_input_atom_id(r.input_atom_id());
  out->set_output_atom_id(r.output_atom_id());
}

void ToProto(const engine::Analytics& analytics, v1::GetInferenceAnalyticsResponse* out) {
  ToTimestamp(analytics.from_us, out->mutable_from());
  ToTimestamp(analytics.to_us, out->mutable_to());
  out->set_aggregate_rows_read(analytics.aggregate_rows_read);
  for (const auto& row : analytics.rows) {
    auto* r = out->add_rows();
    r->set_model_id(row.model_id);
    r->set_task_type(row.task_type);
    if (row.bucket_start_us != 0) ToTimestamp(row.bucket_start_us, r->mutable_bucket_start());
    r->set_count(row.count);
    r->set_avg_duration_ms(row.avg_duration_ms);
    r->set_p50_duration_ms(row.p50_ms);
    r->set_p95_duration_ms(row.p95_ms);
    r->set_p99_duration_ms(row.p99_ms);
    r->set_confidence_count(row.confidence_count);
    r->set_avg_confidence(row.avg_confidence);
    r->set_input_tokens(row.input_tokens);
    r->set_output_tokens(row.output_tokens);
  }
}

void ToProto(const engine::PruneSummary& summary, v1::PruneInferencesResponse* out) {
  out->set_inferences_deleted(summary.inferences_deleted);
  out->set_batches(summary.batches);
  out->set_atoms_released(summary.atoms_released);
}

void ToProto(const storage::ModelLayerRecord& layer, v1::PutActivationResponse* out) {
  out->set_avg_compute_time_ms(layer.avg_compute_time_ms());
}

void ToProto(const engine::ActivationLookup& lookup, v1::GetActivationResponse* out) {
  out->set_cache_hit_rate(lookup.layer.cache_hit_rate());
  if (!lookup.activation) return;
  const auto& a = *lookup.activation;
  out->set_found(true);
  *out->mutable_shape() = a.shape();
  out->set_dtype(a.dtype());
  out->set_data(a.data());
  out->set_compute_time_ms(a.compute_time_ms());
  out->set_hits(a.hits());
}

}  // namespace hartonomous::rpc
