// PlanBuiltSafetensors: a safetensors file built from a model's layers
// (model_export_plan.h).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "server/engine/models/formats/safetensors_reader.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "server/engine/models/model_export_plan.h"

namespace hartonomous::engine {
namespace {

// The safetensors name of a layer's dtype (safetensors names pass; ONNX's
// and GGUF's names of the same types are translated), or "".
std::string SafetensorsDtypeOf(const std::string& dtype) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"FLOAT", "F32"}, {"FLOAT16", "F16"}, {"BFLOAT16", "BF16"}, {"DOUBLE", "F64"},
      {"INT8", "I8"},   {"UINT8", "U8"},    {"INT16", "I16"},     {"UINT16", "U16"},
      {"INT32", "I32"}, {"UINT32", "U32"},  {"INT64", "I64"},     {"UINT64", "U64"},
      {"BOOL", "BOOL"}, {"I8", "I8"},       {"I16", "I16"},       {"I32", "I32"},
      {"I64", "I64"},   {"F32", "F32"},     {"F16", "F16"},       {"BF16", "BF16"},
      {"F64", "F64"}};
  for (const auto& [from, to] : kNames) {
    if (dtype == from) return to;
  }
  // Any other safetensors dtype name is itself.
  return models::SafetensorsByteLength("", dtype, {}).ok() ? dtype : "";
}

}  // namespace

Result<ExportPlan> PlanBuiltSafetensors(const ModelView& view,
                                        const std::vector<ExportLayer>& layers) {
  // One tensor per layer (Q8_0 / Q4_0 blocks as flat U8 bytes; an int8
  // layer adds "<name>.scale", its F32 row scales); `values[k]` lists the
  // chunks of tensor k.
  std::vector<models::SafetensorsTensorSpec> specs;
  std::vector<const std::vector<std::pair<uint64_t, uint64_t>>*> values;
  for (const ExportLayer& v : layers) {
    const storage::ModelLayerRecord& l = v.layer;
    const std::string what = LayerWhat(l);
    std::vector<uint64_t> shape(l.tensor_shape().begin(), l.tensor_shape().end());
    const auto parameters = nlohmann::json::parse(l.parameters_json(), nullptr, false);
    if (parameters.is_object() && parameters.value("shape_order", "") == "innermost first") {
      std::reverse(shape.begin(), shape.end());
    }
    std::string dtype = SafetensorsDtypeOf(l.tensor_dtype());
    if (l.tensor_dtype() == "Q8_0" || l.tensor_dtype() == "Q4_0") {
      dtype = "U8";
      shape = {StoredBytes(v)};
    }
    if (dtype.empty()) {
      return Status::FailedPrecondition(what + ": dtype '" + l.tensor_dtype() +
                                        "' cannot be written to safetensors");
    }
    HT_ASSIGN_OR_RETURN(uint64_t expected, models::SafetensorsByteLength(what, dtype, shape));
    HT_RETURN_IF_ERROR(CheckStoredBytes(v, expected));
    specs.push_back({l.layer_name(), dtype, shape});
    values.push_back(&v.chunks);
    if (!v.scales.empty()) {
      uint64_t scale_bytes = 0;
      for (const auto& chunk : v.scales) scale_bytes += chunk.second;
      specs.push_back({l.layer_name() + ".scale", "F32", {scale_bytes / 4}});
      values.push_back(&v.scales);
    }
  }
  HT_ASSIGN_OR_RETURN(
      models::SafetensorsPlan built,
      models::PlanSafetensors(specs, {{"hartonomous_model", view.model.model_name()}}));
  ExportPlan plan;
  plan.header.format = "safetensors";
  plan.header.file_name = view.model.model_name() + ".safetensors";
  plan.header.file_size = built.file_size;
  plan.reads.push_back(ExportRead::Literal(std::move(built.header)));
  for (size_t i : built.order) {
    for (const auto& [atom, bytes] : *values[i]) {
      plan.reads.push_back(ExportRead::Atom(atom, bytes));
    }
  }
  return plan;
}

}  // namespace hartonomous::engine
