// Validation of hartonomous.v1.ModelService requests: their structure (which
// key is set, page sizes, list filters, update mask paths), table-driven
// where the rules are alike. The rules of the model's and the layers' own
// fields (names, alphabets, JSON limits, shapes) are the engine's
// (engine::CheckModel, engine::CheckLayer), run on every write; messages
// name the field and the rule either way.
//
// Thread-safety: pure functions.
#pragma once

#include "base/status.h"
#include "hartonomous/v1/model_service.pb.h"

namespace hartonomous::rpc {

Status ValidateCreateModel(const v1::CreateModelRequest& request);
Status ValidateGetModel(const v1::GetModelRequest& request);
Status ValidateListModels(const v1::ListModelsRequest& request);
Status ValidateUpdateModel(const v1::UpdateModelRequest& request);
Status ValidateDeleteModel(const v1::DeleteModelRequest& request);
Status ValidateListLayers(const v1::ListLayersRequest& request);
Status ValidateGetLayer(const v1::GetLayerRequest& request);
Status ValidateExportModel(const v1::ExportModelRequest& request);
Status ValidateExtractStudent(const v1::ExtractStudentRequest& request);
Status ValidateExportLayerGeometry(const v1::ExportLayerGeometryRequest& request);
Status ValidateUpdateLayer(const v1::UpdateLayerRequest& request);
Status ValidateDeleteLayer(const v1::DeleteLayerRequest& request);
// The first SetLayerValues message: its start (the layer key as GetLayer
// names it, start.kind importance or temporal).
Status ValidateSetLayerValuesStart(const v1::SetLayerValuesRequest& first);

}  // namespace hartonomous::rpc
