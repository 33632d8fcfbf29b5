#include "server/rpc/model/model_convert.h"

#include <charconv>

#include "server/rpc/common/timestamp.h"

namespace hartonomous::rpc {

engine::ModelView ToModelView(const v1::Model& m) {
  engine::ModelView view;
  storage::ModelRecord& r = view.model;
  r.set_model_id(m.model_id());
  r.set_model_name(m.model_name());
  r.set_model_type(m.model_type());
  r.set_architecture(m.architecture());
  r.set_config_json(m.config_json());
  r.set_parameter_count(m.parameter_count());
  const v1::ModelMetadata& md = m.metadata();
  storage::ModelMetadataRecord& out = view.metadata;
  *out.mutable_supported_tasks() = md.supported_tasks();
  *out.mutable_supported_modalities() = md.supported_modalities();
  out.set_max_input_length(md.max_input_length());
  out.set_max_output_length(md.max_output_length());
  out.set_embedding_dimension(md.embedding_dimension());
  out.set_performance_metrics(md.performance_metrics());
  out.set_training_dataset(md.training_dataset());
  if (md.has_training_date()) out.set_training_date_us(ToMicros(md.training_date()));
  out.set_license(md.license());
  out.set_source_url(md.source_url());
  return view;
}

storage::ModelLayerRecord ToLayerRecord(const v1::ModelLayer& l) {
  storage::ModelLayerRecord r;
  r.set_layer_idx(l.layer_idx());
  r.set_layer_name(l.layer_name());
  r.set_layer_type(static_cast<uint32_t>(l.layer_type()));
  *r.mutable_tensor_shape() = l.tensor_shape();
  r.set_tensor_dtype(l.tensor_dtype());
  r.set_parameter_count(l.parameter_count());
  r.set_parameters_json(l.parameters_json());
  r.set_quantization_type(l.quantization_type());
  r.set_has_quantization_scale(l.has_quantization_scale());
  r.set_quantization_scale(l.quantization_scale());
  r.set_has_quantization_zero_point(l.has_quantization_zero_point());
  r.set_quantization_zero_point(l.quantization_zero_point());
  r.set_has_importance(l.has_importance());
  r.set_importance(l.importance());
  return r;
}

engine::ModelPatch ToModelPatch(const v1::Model& model, const google::protobuf::FieldMask& mask) {
  engine::ModelPatch patch;
  patch.values = ToModelView(model);
  for (const std::string& path : mask.paths()) {
    if (path != "*") patch.paths.push_back(path);
  }
  return patch;
}

void ToProto(const engine::ModelView& view, v1::Model* out) {
  const storage::ModelRecord& r = view.model;
  out->set_model_id(r.model_id());
  out->set_model_name(r.model_name());
  out->set_model_type(r.model_type());
  out->set_architecture(r.architecture());
  out->set_config_json(r.config_json());
  out->set_parameter_count(r.parameter_count());
  ToTimestamp(r.ingestion_date_us(), out->mutable_ingestion_date());
  if (r.last_used_us() != 0) ToTimestamp(r.last_used_us(), out->mutable_last_used());
  out->set_usage_count(r.usage_count());
  out->set_average_inference_ms(r.average_inference_ms());
  out->set_layer_count(r.layer_count());
  ToTimestamp(r.updated_at_us(), out->mutable_updated_at());
  const storage::ModelMetadataRecord& md = view.metadata;
  v1::ModelMetadata* m = out->mutable_metadata();
  *m->mutable_supported_tasks() = md.supported_tasks();
  *m->mutable_supported_modalities() = md.supported_modalities();
  m->set_max_input_length(md.max_input_length());
  m->set_max_output_length(md.max_output_length());
  m->set_embedding_dimension(md.embedding_dimension());
  m->set_performance_metrics(md.performance_metrics());
  m->set_training_dataset(md.training_dataset());
  if (md.training_date_us() != 0) ToTimestamp(md.training_date_us(), m->mutable_training_date());
  m->set_license(md.license());
  m->set_source_url(md.source_url());
}

void ToProto(const storage::ModelLayerRecord& r, v1::ModelLayer* out) {
  out->set_layer_id(r.layer_id());
  out->set_model_id(r.model_id());
  out->set_layer_idx(r.layer_idx());
  out->set_layer_name(r.layer_name());
  out->set_layer_type(static_cast<v1::LayerType>(r.layer_type()));
  *out->mutable_tensor_shape() = r.tensor_shape();
  out->set_tensor_dtype(r.tensor_dtype());
  out->set_parameter_count(r.parameter_count());
  out->set_parameters_json(r.parameters_json());
  out->set_quantization_type(r.quantization_type());
  if (r.has_quantization_scale()) out->set_quantization_scale(r.quantization_scale());
  if (r.has_quantization_zero_point()) {
    out->set_quantization_zero_point(r.quantization_zero_point());
  }
  if (r.has_importance()) out->set_importance(r.importance());
  out->set_cache_hit_rate(r.cache_hit_rate());
  out->set_avg_compute_time_ms(r.avg_compute_time_ms());
  ToTimestamp(r.created_at_us(), out->mutable_created_at());
}

void ToProto(const engine::DeletedModel& deleted, v1::DeleteModelResponse* out) {
  out->set_model_id(deleted.model_id);
  out->set_layers_deleted(deleted.layers_deleted);
  out->set_atoms_purged(deleted.atoms_purged);
  out->set_bytes_freed(deleted.bytes_freed);
}

void ToProto(const engine::DeletedLayer& deleted, v1::DeleteLayerResponse* out) {
  out->set_layer_id(deleted.layer.layer_id());
  out->set_model_id(deleted.layer.model_id());
  out->set_layer_idx(deleted.layer.layer_idx());
  out->set_tensor_rows_detached(deleted.tensor_rows_detached);
  out->set_dependent_rows_removed(deleted.dependent_rows_removed);
}

void ToProto(const engine::LayerValuesReport& report, v1::SetLayerValuesResponse* out) {
  ToProto(report.layer, out->mutable_layer());
  out->set_kind(report.kind == storage::TensorKind::kTemporal ? v1::LAYER_VALUE_KIND_TEMPORAL
                                                              : v1::LAYER_VALUE_KIND_IMPORTANCE);
  out->set_values(report.values);
  out->set_chunks(report.chunks);
  out->set_new_bytes_stored(report.new_bytes_stored);
  out->set_rows_replaced(report.rows_replaced);
  out->set_atoms_purged(report.atoms_purged);
}

engine::LayerValuesOptions ToLayerValuesOptions(const v1::SetLayerValuesStart& start) {
  engine::LayerValuesOptions options;
  options.layer =
      engine::LayerKey{start.layer_id(), {start.model_id(), start.model_name()}, start.layer_idx()};
  options.kind = start.kind() == v1::LAYER_VALUE_KIND_TEMPORAL ? storage::TensorKind::kTemporal
                                                               : storage::TensorKind::kImportance;
  options.clear = start.clear();
  return options;
}

engine::LayerPatch ToLayerPatch(const v1::ModelLayer& layer,
                                const google::protobuf::FieldMask& mask) {
  engine::LayerPatch patch;
  patch.values = ToLayerRecord(layer);
  patch.paths.assign(mask.paths().begin(), mask.paths().end());
  return patch;
}

}  // namespace hartonomous::rpc

namespace hartonomous::rpc {

Result<engine::models::QuantType> ToQuantType(const std::string& field, const std::string& name) {
  static const std::pair<const char*, engine::models::QuantType> kTypes[] = {
      {"int8", engine::models::QuantType::kInt8PerChannel},
      {"q8_0", engine::models::QuantType::kQ8_0},
      {"q4_0", engine::models::QuantType::kQ4_0},
      {"f16", engine::models::QuantType::kF16},
      {"bf16", engine::models::QuantType::kBF16}};
  for (const auto& [text, type] : kTypes) {
    if (name == text) return type;
  }
  return Status::InvalidArgument(field + ": one of int8, q8_0, q4_0, f16, bf16, got '" +
                                 name.substr(0, 32) + "'");
}

Result<engine::ImportOptions> ToImportOptions(const v1::ImportModelRequest& first) {
  if (!first.has_start()) {
    return Status::InvalidArgument("stream message 0: must carry start (the model's fields)");
  }
  const v1::ImportModelStart& start = first.start();
  engine::ImportOptions options;
  options.model = ToModelView(start.model());
  if (!start.format().empty()) {
    options.format = engine::models::ParseModelFormatName(start.format());
    if (!options.format) {
      return Status::InvalidArgument(
          "start.format: one of safetensors, gguf, onnx (or empty), "
          "got '" +
          start.format().substr(0, 64) + "'");
    }
  }
  if (start.file_name().size() > 1024) {
    return Status::InvalidArgument("start.file_name: at most 1024 bytes, got " +
                                   std::to_string(start.file_name().size()));
  }
  options.file_name = start.file_name();
  if (start.file_size() != 0) options.file_size = start.file_size();
  if (start.chunk_bytes() != 0) options.chunk_bytes = start.chunk_bytes();
  if (!start.sha256().empty()) {
    options.expected_sha256 = ParseSha256Hex(start.sha256());
    if (!options.expected_sha256) {
      return Status::InvalidArgument("start.sha256: must be 64 hex characters");
    }
  }
  if (start.has_quantize()) {
    const v1::ImportQuantization& q = start.quantize();
    engine::ImportQuantize quantize;
    quantize.name = q.name();
    HT_ASSIGN_OR_RETURN(quantize.spec.type, ToQuantType("start.quantize.type", q.type()));
    quantize.spec.layers.assign(q.layers().begin(), q.layers().end());
    quantize.spec.saturate = q.saturate();
    quantize.spec.requantize = q.requantize();
    options.quantize = std::move(quantize);
  }
  return options;
}

namespace {

v1::LayerSharing ToProto(engine::LayerSharing sharing) {
  switch (sharing) {
    case engine::LayerSharing::kEmpty:
      return v1::LAYER_SHARING_EMPTY;
    case engine::LayerSharing::kNew:
      return v1::LAYER_SHARING_NEW;
    case engine::LayerSharing::kPartlyShared:
      return v1::LAYER_SHARING_PARTLY_SHARED;
    case engine::LayerSharing::kShared:
      return v1::LAYER_SHARING_SHARED;
  }
  return v1::LAYER_SHARING_UNSPECIFIED;
}

}  // namespace

void ToProto(const engine::ImportReport& report, v1::ImportModelResponse* out) {
  ToProto(report.model, out->mutable_model());
  out->set_format(report.format);
  out->set_bytes_received(report.bytes_received);
  out->set_new_bytes_stored(report.new_bytes_stored);
  out->set_atoms(report.atoms);
  out->set_new_atoms(report.new_atoms);
  out->set_chunk_bytes(report.chunk_bytes);
  out->set_file_sha256(ToHex(report.file_sha256));
  for (const engine::LayerImport& l : report.layers) {
    v1::LayerImport* layer = out->add_layers();
    layer->set_layer_idx(l.layer_idx);
    layer->set_layer_name(l.layer_name);
    layer->set_bytes(l.bytes);
    layer->set_chunks(l.chunks);
    layer->set_new_chunks(l.new_chunks);
    layer->set_new_bytes(l.new_bytes);
    layer->set_sharing(ToProto(l.sharing));
  }
  if (report.quantized) ToProto(*report.quantized, out->mutable_quantized());
}

void ToProto(const engine::ModelEngine::ExportHeader& header, v1::ExportModelHeader* out) {
  out->set_format(header.format);
  out->set_file_name(header.file_name);
  out->set_file_size(header.file_size);
  // A file built at export (a student) has no SHA-256 known in advance.
  if (header.file_sha256 != Sha256Digest{}) out->set_file_sha256(ToHex(header.file_sha256));
}

}  // namespace hartonomous::rpc

namespace hartonomous::rpc {

void ToProto(const engine::ModelEngine::Student& student, v1::ExtractStudentResponse* out) {
  ToProto(student.model, out->mutable_model());
  out->set_layers_kept(student.layers_kept);
  out->set_layers_total(static_cast<uint32_t>(student.layers.size()));
  out->set_bytes_shared(student.bytes_shared);
  for (const auto& l : student.layers) {
    v1::StudentLayer* layer = out->add_layers();
    layer->set_layer_idx(l.layer_idx);
    layer->set_layer_name(l.layer_name);
    layer->set_importance(l.importance);
    layer->set_importance_given(l.importance_given);
    layer->set_importance_known(l.importance_known);
    layer->set_importance_source(l.importance_source);
    layer->set_kept(l.kept);
    layer->set_student_layer_idx(l.student_layer_idx);
  }
}

Result<engine::ModelEngine::QuantizeRequest> ToQuantizeRequest(
    const v1::QuantizeModelRequest& request) {
  if (request.source_case() == v1::QuantizeModelRequest::SOURCE_NOT_SET ||
      (request.model_id() == 0 && request.model_name().empty())) {
    return Status::InvalidArgument("model_id or model_name: one is required (the source model)");
  }
  if (request.name().empty()) {
    return Status::InvalidArgument("name: required (the quantized model's name)");
  }
  engine::ModelEngine::QuantizeRequest out;
  out.source = engine::ModelKey{request.model_id(), request.model_name()};
  out.name = request.name();
  HT_ASSIGN_OR_RETURN(out.type, ToQuantType("type", request.type()));
  out.layers.assign(request.layers().begin(), request.layers().end());
  out.saturate = request.saturate();
  out.requantize = request.requantize();
  return out;
}

void ToProto(const engine::ModelEngine::Quantized& q, v1::QuantizeModelResponse* out) {
  ToProto(q.model, out->mutable_model());
  out->set_new_bytes_stored(q.new_bytes_stored);
  out->set_bytes_shared(q.bytes_shared);
  for (const auto& l : q.layers) {
    v1::LayerQuantization* layer = out->add_layers();
    layer->set_layer_idx(l.layer_idx);
    layer->set_layer_name(l.layer_name);
    layer->set_quantized(l.quantized);
    layer->set_skipped(l.skipped);
    layer->set_dtype_before(l.dtype_before);
    layer->set_dtype_after(l.dtype_after);
    layer->set_snr_db(l.error.snr_db);
    layer->set_rmse(l.error.rmse);
    layer->set_relative_rmse(l.error.relative_rmse);
    layer->set_max_abs_error(l.error.max_abs_error);
    layer->set_saturated(l.saturated);
    layer->set_scale(l.scale);
    layer->set_bytes_before(l.bytes_before);
    layer->set_bytes_after(l.bytes_after);
  }
}

namespace {

void AppendNumber(std::string* out, double v) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), v);
  out->append(buffer, result.ptr);
}

}  // namespace

std::string ToWkt(const std::vector<engine::ModelEngine::GeometryPoint>& points) {
  if (points.empty()) return "LINESTRING ZM EMPTY";
  std::string out = points.size() == 1 ? "POINT ZM (" : "LINESTRING ZM (";
  out.reserve(out.size() + points.size() * 40);
  for (size_t i = 0; i < points.size(); ++i) {
    if (i > 0) out += ", ";
    const auto& p = points[i];
    AppendNumber(&out, p.x);
    out += ' ';
    AppendNumber(&out, p.y);
    out += ' ';
    AppendNumber(&out, p.z);
    out += ' ';
    AppendNumber(&out, p.m);
  }
  out += ')';
  return out;
}

void ToProto(const engine::ModelEngine::ExportExternalHeader& header, v1::ExportExternalFile* out) {
  out->set_location(header.location);
  out->set_file_size(header.file_size);
  if (header.file_sha256 != Sha256Digest{}) out->set_file_sha256(ToHex(header.file_sha256));
}

}  // namespace hartonomous::rpc
