// Conversions between hartonomous.v1 ModelService messages and the model
// engine's values (stored records). Output-only fields of a request are not
// converted (the engine sets them).
//
// Thread-safety: pure functions.
#pragma once

#include <google/protobuf/field_mask.pb.h>

#include "hartonomous/v1/model_service.pb.h"
#include "server/engine/models/layer_values_writer.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/model_import.h"
#include "storage/records.pb.h"

namespace hartonomous::rpc {

engine::ModelView ToModelView(const v1::Model& model);
storage::ModelLayerRecord ToLayerRecord(const v1::ModelLayer& layer);
// REQUIRES: the mask was validated (ValidateUpdateModel). Empty or "*" =
// the engine's default paths.
engine::ModelPatch ToModelPatch(const v1::Model& model, const google::protobuf::FieldMask& mask);

void ToProto(const engine::ModelView& view, v1::Model* out);
void ToProto(const storage::ModelLayerRecord& layer, v1::ModelLayer* out);
void ToProto(const engine::DeletedModel& deleted, v1::DeleteModelResponse* out);
void ToProto(const engine::DeletedLayer& deleted, v1::DeleteLayerResponse* out);
void ToProto(const engine::LayerValuesReport& report, v1::SetLayerValuesResponse* out);
// REQUIRES: start was validated (ValidateSetLayerValuesStart).
engine::LayerValuesOptions ToLayerValuesOptions(const v1::SetLayerValuesStart& start);
// REQUIRES: the request was validated (ValidateUpdateLayer).
engine::LayerPatch ToLayerPatch(const v1::ModelLayer& layer,
                                const google::protobuf::FieldMask& mask);

// A quantization type's name ("int8", "q8_0", "q4_0", "f16", "bf16"):
// InvalidArgument naming field for another.
Result<engine::models::QuantType> ToQuantType(const std::string& field, const std::string& name);
// The first ImportModel message's start: InvalidArgument naming
// start.format, start.chunk_bytes, start.sha256 or start.quantize.type when
// they break their rule (the model's fields are the engine's).
Result<engine::ImportOptions> ToImportOptions(const v1::ImportModelRequest& first);
void ToProto(const engine::ImportReport& report, v1::ImportModelResponse* out);
void ToProto(const engine::ModelEngine::ExportHeader& header, v1::ExportModelHeader* out);
void ToProto(const engine::ModelEngine::ExportExternalHeader& header, v1::ExportExternalFile* out);
void ToProto(const engine::ModelEngine::Student& student, v1::ExtractStudentResponse* out);
// InvalidArgument naming model_id / model_name, name or type when they
// break their rule.
Result<engine::ModelEngine::QuantizeRequest> ToQuantizeRequest(
    const v1::QuantizeModelRequest& request);
void ToProto(const engine::ModelEngine::Quantized& quantized, v1::QuantizeModelResponse* out);
// "LINESTRING ZM (x y z m, ...)"; one point: "POINT ZM (x y z m)"; none:
// "LINESTRING ZM EMPTY". Numbers in the shortest form that reads back
// exactly.
std::string ToWkt(const std::vector<engine::ModelEngine::GeometryPoint>& points);

}  // namespace hartonomous::rpc
