// PlanBuiltGguf: a GGUF v3 file built from a model's layers
// (model_export_plan.h): one tensor per layer, named as the layer, of the
// ggml type of its dtype (Q8_0 / Q4_0 blocks as they are stored; F32, F16,
// BF16, F64 and integer dtypes under any format's name), dims innermost
// first. KVs: general.architecture (when the model has one), general.name.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/engine/models/formats/ggml_type.h"
#include "server/engine/models/formats/gguf_writer.h"
#include "server/engine/models/model_export_plan.h"

namespace hartonomous::engine {
namespace {

// ggml's name of a layer's dtype (ONNX's and safetensors' names of the
// same types translated; GGUF's pass), or nullptr.
const models::GgmlType* GgmlTypeOf(std::string_view dtype) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"FLOAT", "F32"}, {"FLOAT16", "F16"}, {"BFLOAT16", "BF16"}, {"DOUBLE", "F64"},
      {"INT8", "I8"},   {"INT16", "I16"},   {"INT32", "I32"},     {"INT64", "I64"}};
  for (const auto& [from, to] : kNames) {
    if (dtype == from) return models::FindGgmlTypeByName(to);
  }
  return models::FindGgmlTypeByName(dtype);
}

constexpr size_t kMaxGgmlDims = 4;        // GGML_MAX_DIMS
constexpr size_t kMaxGgmlNameBytes = 63;  // GGML_MAX_NAME - 1

}  // namespace

Result<ExportPlan> PlanBuiltGguf(const ModelView& view, const std::vector<ExportLayer>& layers) {
  std::vector<models::GgufTensorSpec> specs;
  for (const ExportLayer& v : layers) {
    const storage::ModelLayerRecord& l = v.layer;
    const std::string what = LayerWhat(l);
    if (!v.scales.empty() || l.quantization_type() == "int8") {
      return Status::FailedPrecondition(
          what +
          ": int8 values with per-row scales cannot be written to GGUF (ggml has no such "
          "type; quantize to q8_0 or q4_0 instead)");
    }
    const models::GgmlType* type = GgmlTypeOf(l.tensor_dtype());
    if (type == nullptr) {
      return Status::FailedPrecondition(what + ": dtype '" + l.tensor_dtype() +
                                        "' cannot be written to GGUF");
    }
    if (l.layer_name().size() > kMaxGgmlNameBytes) {
      return Status::FailedPrecondition(what + ": GGUF tensor names are at most " +
                                        std::to_string(kMaxGgmlNameBytes) + " bytes");
    }
    std::vector<uint64_t> dims(l.tensor_shape().begin(), l.tensor_shape().end());
    const auto parameters = nlohmann::json::parse(l.parameters_json(), nullptr, false);
    if (!(parameters.is_object() && parameters.value("shape_order", "") == "innermost first")) {
      std::reverse(dims.begin(), dims.end());
    }
    if (dims.empty()) dims = {1};  // ggml has no rank 0
    if (dims.size() > kMaxGgmlDims) {
      return Status::FailedPrecondition(what + ": rank " + std::to_string(dims.size()) +
                                        ", GGUF tensors have at most " +
                                        std::to_string(kMaxGgmlDims) + " dims");
    }
    if (dims[0] % type->block_size != 0) {
      return Status::FailedPrecondition(what + ": its innermost dimension " +
                                        std::to_string(dims[0]) + " is not a whole number of " +
                                        std::string(type->name) + " blocks of " +
                                        std::to_string(type->block_size));
    }
    uint64_t count = 1;
    for (uint64_t d : dims) count *= d;
    const uint64_t expected = count / type->block_size * type->type_size;
    HT_RETURN_IF_ERROR(CheckStoredBytes(v, expected));
    specs.push_back({l.layer_name(), type->id, std::move(dims)});
  }
  std::vector<models::GgufKvSpec> kvs;
  if (!view.model.architecture().empty()) {
    kvs.push_back({"general.architecture", models::GgufValue::String(view.model.architecture())});
  }
  kvs.push_back({"general.name", models::GgufValue::String(view.model.model_name())});
  HT_ASSIGN_OR_RETURN(models::GgufPlan built, models::PlanGguf(kvs, specs));
  ExportPlan plan;
  plan.header.format = "gguf";
  plan.header.file_name = view.model.model_name() + ".gguf";
  plan.header.file_size = built.file_size;
  plan.reads.push_back(ExportRead::Literal(std::move(built.header)));
  for (size_t i = 0; i < layers.size(); ++i) {
    for (const auto& [atom, bytes] : layers[i].chunks) {
      plan.reads.push_back(ExportRead::Atom(atom, bytes));
    }
    if (built.paddings[i] > 0) {
      plan.reads.push_back(ExportRead::Literal(std::string(built.paddings[i], '\0')));
    }
  }
  return plan;
}

}  // namespace hartonomous::engine
