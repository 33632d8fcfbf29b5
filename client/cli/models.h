// Model catalog commands of `hartonomous` (hartonomous.v1.ModelService):
//   model list     models with their type, architecture, size, filtered
//   model show     one model (by name or id) with its metadata and layers
//   model create   a catalog entry: name, type, architecture, config JSON
//   model delete   a model with its layers and metadata
//   model import   model files (safetensors, GGUF, ONNX) as models whose
//                  weights are deduplicated tensor atoms
//   model export   an imported model's file, byte for byte (a model built
//                  by extraction or quantization: a safetensors file);
//                  --format safetensors|gguf|onnx
//   model extract-student  a model of the most important layers, sharing
//                  the teacher's tensor atoms
//   model geometry a layer's weights as WKT LINESTRING ZM
//   model quantize a quantized copy of a model, with each layer's error
//   model set-values   a layer's per-weight importance or temporal values
//   model update-layer a layer's name, type, parameters or importance
//   model delete-layer one layer (its tensor rows stay with the model)
//
// A model argument is a model_id when it is all digits, else a model name
// (the server refuses all-digit names).
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <vector>

#include "cli_args.h"

namespace hartonomous::cli {

std::vector<OptionSpec> ModelListOptions();
std::vector<OptionSpec> ModelCreateOptions();
void RunModelList(const Invocation& invocation);
void RunModelShow(const Invocation& invocation);
void RunModelCreate(const Invocation& invocation);
void RunModelDelete(const Invocation& invocation);
std::vector<OptionSpec> ModelImportOptions();
void RunModelImport(const Invocation& invocation);
void RunModelExport(const Invocation& invocation);
std::vector<OptionSpec> ModelQuantizeOptions();
void RunModelQuantize(const Invocation& invocation);
std::vector<OptionSpec> ModelStudentOptions();
void RunModelExtractStudent(const Invocation& invocation);
std::vector<OptionSpec> ModelGeometryOptions();
void RunModelGeometry(const Invocation& invocation);
// model update MODEL: changes the fields given as options (an update mask of
// exactly those).
std::vector<OptionSpec> ModelUpdateOptions();
void RunModelUpdate(const Invocation& invocation);
std::vector<OptionSpec> ModelSetValuesOptions();
void RunModelSetValues(const Invocation& invocation);
std::vector<OptionSpec> ModelUpdateLayerOptions();
void RunModelUpdateLayer(const Invocation& invocation);
void RunModelDeleteLayer(const Invocation& invocation);

}  // namespace hartonomous::cli
