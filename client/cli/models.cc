#include "models.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "cli_errors.h"
#include "commands.h"
#include "format.h"
#include "input_files.h"
#include "json_output.h"
#include "onnx_external.h"
#include "output_file.h"
#include "progress.h"
#include "table.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;
using json = nlohmann::ordered_json;

// Sets the oneof key of a Get/Delete/ListLayers request from NAME|ID.
template <typename Request>
void SetModelKey(const std::string& arg, Request* request) {
  if (AllDigits(arg)) {
    request->set_model_id(ParseUint64(arg, "model id"));
  } else {
    request->set_model_name(arg);
  }
}

json TimestampJson(bool present, const google::protobuf::Timestamp& ts) {
  return present ? json(FormatTimestamp(ts)) : json(nullptr);
}

// A JSON object field's text as JSON (the text itself when it does not parse).
json EmbeddedJson(const std::string& text) {
  if (text.empty()) return json::object();
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? json(text) : parsed;
}

const char* LayerTypeName(v1::LayerType type) {
  switch (type) {
    case v1::LAYER_TYPE_EMBEDDING:
      return "embedding";
    case v1::LAYER_TYPE_ATTENTION:
      return "attention";
    case v1::LAYER_TYPE_FEEDFORWARD:
      return "feedforward";
    case v1::LAYER_TYPE_NORM:
      return "norm";
    case v1::LAYER_TYPE_OTHER:
      return "other";
    default:
      return "unspecified";
  }
}

std::string ShapeText(const v1::ModelLayer& layer) {
  std::string out = "[";
  for (int i = 0; i < layer.tensor_shape_size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(layer.tensor_shape(i));
  }
  return out + "]";
}

json ModelToJson(const v1::Model& m) {
  const v1::ModelMetadata& md = m.metadata();
  return {
      {"model_id", m.model_id()},
      {"model_name", m.model_name()},
      {"model_type", m.model_type()},
      {"architecture", m.architecture()},
      {"config_json", EmbeddedJson(m.config_json())},
      {"parameter_count", m.parameter_count()},
      {"ingestion_date", TimestampJson(m.has_ingestion_date(), m.ingestion_date())},
      {"last_used", TimestampJson(m.has_last_used(), m.last_used())},
      {"usage_count", m.usage_count()},
      {"average_inference_ms", m.average_inference_ms()},
      {"metadata",
       {
           {"supported_tasks", json(md.supported_tasks())},
           {"supported_modalities", json(md.supported_modalities())},
           {"max_input_length", md.max_input_length()},
           {"max_output_length", md.max_output_length()},
           {"embedding_dimension", md.embedding_dimension()},
           {"performance_metrics", EmbeddedJson(md.performance_metrics())},
           {"training_dataset", md.training_dataset()},
           {"training_date", TimestampJson(md.has_training_date(), md.training_date())},
           {"license", md.license()},
           {"source_url", md.source_url()},
       }},
      {"layer_count", m.layer_count()},
      {"updated_at", TimestampJson(m.has_updated_at(), m.updated_at())},
  };
}

json LayerToJson(const v1::ModelLayer& l) {
  return {
      {"layer_id", l.layer_id()},
      {"model_id", l.model_id()},
      {"layer_idx", l.layer_idx()},
      {"layer_name", l.layer_name()},
      {"layer_type", LayerTypeName(l.layer_type())},
      {"tensor_shape", json(l.tensor_shape())},
      {"tensor_dtype", l.tensor_dtype()},
      {"parameter_count", l.parameter_count()},
      {"parameters_json", EmbeddedJson(l.parameters_json())},
      {"quantization_type", l.quantization_type()},
      {"quantization_scale",
       l.has_quantization_scale() ? json(l.quantization_scale()) : json(nullptr)},
      {"quantization_zero_point",
       l.has_quantization_zero_point() ? json(l.quantization_zero_point()) : json(nullptr)},
      {"importance", l.has_importance() ? json(l.importance()) : json(nullptr)},
      {"cache_hit_rate", l.cache_hit_rate()},
      {"avg_compute_time_ms", l.avg_compute_time_ms()},
      {"created_at", TimestampJson(l.has_created_at(), l.created_at())},
  };
}

void Field(std::ostream& out, std::string_view name, const std::string& value) {
  constexpr size_t kNameWidth = 22;
  out << name;
  for (size_t i = name.size(); i < kNameWidth; ++i) out << ' ';
  out << value << '\n';
}

std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

void PrintModel(std::ostream& out, const v1::Model& m) {
  Field(out, "model_id", std::to_string(m.model_id()));
  Field(out, "model_name", m.model_name());
  Field(out, "model_type", m.model_type());
  Field(out, "architecture", m.architecture());
  Field(out, "parameter_count", std::to_string(m.parameter_count()));
  Field(out, "layer_count", std::to_string(m.layer_count()));
  Field(out, "ingestion_date", m.has_ingestion_date() ? FormatTimestamp(m.ingestion_date()) : "");
  Field(out, "last_used", m.has_last_used() ? FormatTimestamp(m.last_used()) : "never");
  Field(out, "usage_count", std::to_string(m.usage_count()));
  Field(out, "average_inference_ms", std::to_string(m.average_inference_ms()));
  std::string config = m.config_json();
  while (!config.empty() && (config.back() == '\n' || config.back() == '\r')) config.pop_back();
  Field(out, "config_json", config);
  const v1::ModelMetadata& md = m.metadata();
  Field(out, "supported_tasks", Joined(md.supported_tasks()));
  Field(out, "supported_modalities", Joined(md.supported_modalities()));
  Field(out, "max_input_length", std::to_string(md.max_input_length()));
  Field(out, "max_output_length", std::to_string(md.max_output_length()));
  Field(out, "embedding_dimension", std::to_string(md.embedding_dimension()));
  Field(out, "performance_metrics", md.performance_metrics());
  Field(out, "training_dataset", md.training_dataset());
  Field(out, "training_date", md.has_training_date() ? FormatTimestamp(md.training_date()) : "");
  Field(out, "license", md.license());
  Field(out, "source_url", md.source_url());
}

}  // namespace

std::vector<OptionSpec> ModelListOptions() {
  return {{"type", 0, "T", "only models of model type T"},
          {"architecture", 0, "A", "only models of architecture A"},
          {"name", 0, "N", "only the model named N"},
          {"prefix", 0, "P", "only models whose name starts with P (listed in name order)"},
          {"limit", 0, "N", "stop after N models (default: 0 = all)"},
          {"page-size", 0, "N", "models per request (default: the server's, 50)"}};
}

std::vector<OptionSpec> ModelCreateOptions() {
  return {{"name", 0, "NAME", "the model's unique name (required)"},
          {"type", 0, "T", "model type, e.g. transformer"},
          {"architecture", 0, "A", "architecture, e.g. llama"},
          {"config-json", 0, "FILE", "the model's configuration: a JSON object file ('-' = stdin)"},
          {"parameters", 0, "N", "the model's parameter count"},
          {"license", 0, "L", "metadata: license, e.g. apache-2.0"},
          {"source-url", 0, "URL", "metadata: where the model comes from"}};
}

void RunModelList(const Invocation& invocation) {
  v1::ListModelsRequest request;
  request.set_model_type(invocation.Get("type"));
  request.set_architecture(invocation.Get("architecture"));
  request.set_model_name(invocation.Get("name"));
  request.set_name_prefix(invocation.Get("prefix"));
  const uint64_t limit = invocation.GetUint("limit", 0);
  request.set_page_size(invocation.GetInt32("page-size", 0));

  Client client(MakeClientOptions(invocation.global));
  const bool as_json = invocation.global.json;
  json all = json::array();
  Table table({{"ID", true},
               {"NAME"},
               {"TYPE"},
               {"ARCHITECTURE"},
               {"PARAMETERS", true},
               {"LAYERS", true},
               {"INGESTED"}});
  uint64_t count = 0;
  Check(client.ListModels(request, [&](const v1::Model& m) {
    if (as_json) {
      all.push_back(ModelToJson(m));
    } else {
      table.AddRow({std::to_string(m.model_id()), m.model_name(), m.model_type(), m.architecture(),
                    std::to_string(m.parameter_count()), std::to_string(m.layer_count()),
                    m.has_ingestion_date() ? FormatTimestamp(m.ingestion_date()) : ""});
    }
    ++count;
    return limit == 0 || count < limit;
  }));
  if (as_json) {
    PrintJson(std::cout, all);
    return;
  }
  if (count > 0) table.Flush(std::cout);
  std::cout << count << (count == 1 ? " model\n" : " models\n");
}

void RunModelShow(const Invocation& invocation) {
  v1::GetModelRequest get;
  SetModelKey(invocation.args[0], &get);
  Client client(MakeClientOptions(invocation.global));
  v1::Model model;
  Check(client.GetModel(get, &model));
  v1::ListLayersRequest layers_request;
  layers_request.set_model_id(model.model_id());
  std::vector<v1::ModelLayer> layers;
  Check(client.ListLayers(layers_request, [&](const v1::ModelLayer& layer) {
    layers.push_back(layer);
    return true;
  }));
  if (invocation.global.json) {
    json out = ModelToJson(model);
    json list = json::array();
    for (const auto& layer : layers) list.push_back(LayerToJson(layer));
    out["layers"] = std::move(list);
    PrintJson(std::cout, out);
    return;
  }
  PrintModel(std::cout, model);
  if (layers.empty()) {
    std::cout << "no layers\n";
    return;
  }
  Table table({{"IDX", true},
               {"LAYER_ID", true},
               {"NAME"},
               {"TYPE"},
               {"SHAPE"},
               {"DTYPE"},
               {"PARAMETERS", true},
               {"QUANTIZATION"}});
  for (const auto& l : layers) {
    table.AddRow({std::to_string(l.layer_idx()), std::to_string(l.layer_id()), l.layer_name(),
                  LayerTypeName(l.layer_type()), ShapeText(l), l.tensor_dtype(),
                  std::to_string(l.parameter_count()), l.quantization_type()});
  }
  std::cout << "\n";
  table.Flush(std::cout);
}

void RunModelCreate(const Invocation& invocation) {
  if (!invocation.Has("name") || invocation.Get("name").empty()) {
    throw UsageError("model create needs --name NAME");
  }
  v1::CreateModelRequest request;
  v1::Model* model = request.mutable_model();
  model->set_model_name(invocation.Get("name"));
  model->set_model_type(invocation.Get("type"));
  model->set_architecture(invocation.Get("architecture"));
  if (invocation.Has("config-json"))
    model->set_config_json(ReadWholeFile(invocation.Get("config-json")));
  model->set_parameter_count(invocation.GetUint("parameters", 0));
  model->mutable_metadata()->set_license(invocation.Get("license"));
  model->mutable_metadata()->set_source_url(invocation.Get("source-url"));
  const v1::Model created = Call(invocation, &Client::CreateModel, request);
  if (invocation.global.json) {
    PrintJson(std::cout, ModelToJson(created));
  } else {
    PrintModel(std::cout, created);
  }
}

std::vector<OptionSpec> ModelUpdateOptions() {
  return {{"name", 0, "NAME", "a new unique name (MODEL must then be an id)"},
          {"type", 0, "T", "model type"},
          {"architecture", 0, "A", "architecture"},
          {"config-json", 0, "FILE", "configuration: a JSON object file ('-' = stdin)"},
          {"parameters", 0, "N", "parameter count"},
          {"license", 0, "L", "metadata: license"},
          {"source-url", 0, "URL", "metadata: where the model comes from"}};
}

void RunModelUpdate(const Invocation& invocation) {
  v1::UpdateModelRequest request;
  v1::Model* model = request.mutable_model();
  SetModelKey(invocation.args[0], model);
  auto mask = [&](const char* path) { request.mutable_update_mask()->add_paths(path); };
  if (invocation.Has("name")) {
    if (model->model_id() == 0) throw UsageError("--name: renaming needs MODEL as an id");
    model->set_model_name(invocation.Get("name"));
    mask("model_name");
  }
  if (invocation.Has("type")) {
    model->set_model_type(invocation.Get("type"));
    mask("model_type");
  }
  if (invocation.Has("architecture")) {
    model->set_architecture(invocation.Get("architecture"));
    mask("architecture");
  }
  if (invocation.Has("config-json")) {
    model->set_config_json(ReadWholeFile(invocation.Get("config-json")));
    mask("config_json");
  }
  if (invocation.Has("parameters")) {
    model->set_parameter_count(invocation.GetUint("parameters", 0));
    mask("parameter_count");
  }
  if (invocation.Has("license")) {
    model->mutable_metadata()->set_license(invocation.Get("license"));
    mask("metadata.license");
  }
  if (invocation.Has("source-url")) {
    model->mutable_metadata()->set_source_url(invocation.Get("source-url"));
    mask("metadata.source_url");
  }
  if (request.update_mask().paths_size() == 0) {
    throw UsageError("model update needs at least one field to change (see --help)");
  }
  const v1::Model updated = Call(invocation, &Client::UpdateModel, request);
  if (invocation.global.json) {
    PrintJson(std::cout, ModelToJson(updated));
  } else {
    PrintModel(std::cout, updated);
  }
}

void RunModelDelete(const Invocation& invocation) {
  v1::DeleteModelRequest request;
  SetModelKey(invocation.args[0], &request);
  const v1::DeleteModelResponse deleted = Call(invocation, &Client::DeleteModel, request);
  if (invocation.global.json) {
    PrintJson(std::cout, json{{"model_id", deleted.model_id()},
                              {"layers_deleted", deleted.layers_deleted()},
                              {"atoms_purged", deleted.atoms_purged()},
                              {"bytes_freed", deleted.bytes_freed()}});
  } else {
    std::cout << "deleted model " << deleted.model_id() << " and its " << deleted.layers_deleted()
              << (deleted.layers_deleted() == 1 ? " layer" : " layers");
    if (deleted.atoms_purged() > 0) {
      std::cout << "; purged " << deleted.atoms_purged() << " tensor atoms only it held ("
                << FormatBytes(deleted.bytes_freed()) << ")";
    }
    std::cout << "\n";
  }
}

std::vector<OptionSpec> ModelImportOptions() {
  return {
      {"name", 0, "NAME",
       "the model's unique name (one FILE only; default: the file name without its "
       "extension)"},
      {"format", 0, "F", "safetensors, gguf or onnx (default: detected)"},
      {"chunk-bytes", 0, "N", "size of the chunks tensors are cut into (default 262144)"},
      {"type", 0, "T", "model type, e.g. transformer"},
      {"architecture", 0, "A", "architecture, e.g. llama"},
      {"license", 0, "L", "metadata: license, e.g. apache-2.0"},
      {"source-url", 0, "URL", "metadata: where the model comes from"},
      {"quantize", 0, "T",
       "also store a copy quantized to T (int8, q8_0, q4_0, f16 or bf16) in the same import"},
      {"quantized-name", 0, "NAME", "the quantized copy's name (one FILE only; default: NAME-T)"},
      {"quantize-layers", 0, "I,J,...",
       "layer indexes to quantize (default: every layer that suits the type)"},
      {"saturate", 0, "", "with --quantize: clamp values beyond fp16's range"},
      {"requantize", 0, "", "with --quantize: allow layers that are quantized already"}};
}

namespace {

// A model name from a file name: its stem, with characters outside the
// name alphabet replaced by '-'.
std::string NameFromFile(const std::string& path) {
  std::string name = std::filesystem::path(path).stem().string();
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '-';
    if (!ok) c = '-';
  }
  if (name.size() > 128) name.resize(128);
  if (AllDigits(name)) name = "model-" + name;
  return name;
}

const char* SharingName(v1::LayerSharing sharing) {
  switch (sharing) {
    case v1::LAYER_SHARING_EMPTY:
      return "empty";
    case v1::LAYER_SHARING_NEW:
      return "new";
    case v1::LAYER_SHARING_PARTLY_SHARED:
      return "partly shared";
    case v1::LAYER_SHARING_SHARED:
      return "shared";
    default:
      return "?";
  }
}

// "I,J,..." as layer indexes.
template <typename Request>
void AddLayerList(const std::string& list_text, Request* request) {
  std::stringstream list(list_text);
  std::string item;
  while (std::getline(list, item, ',')) {
    request->add_layers(static_cast<uint32_t>(ParseUint64(item, "layer index")));
  }
}

json QuantizedToJson(const v1::QuantizeModelResponse& r) {
  json layers = json::array();
  for (const auto& l : r.layers()) {
    layers.push_back({{"layer_idx", l.layer_idx()},
                      {"layer_name", l.layer_name()},
                      {"quantized", l.quantized()},
                      {"skipped", l.skipped()},
                      {"dtype_before", l.dtype_before()},
                      {"dtype_after", l.dtype_after()},
                      {"snr_db", l.snr_db()},
                      {"rmse", l.rmse()},
                      {"relative_rmse", l.relative_rmse()},
                      {"max_abs_error", l.max_abs_error()},
                      {"saturated", l.saturated()},
                      {"scale", l.scale()},
                      {"bytes_before", l.bytes_before()},
                      {"bytes_after", l.bytes_after()}});
  }
  return {{"model", ModelToJson(r.model())},
          {"new_bytes_stored", r.new_bytes_stored()},
          {"bytes_shared", r.bytes_shared()},
          {"layers", layers}};
}

json ImportToJson(const std::string& file, const v1::ImportModelResponse& r) {
  json layers = json::array();
  for (const auto& l : r.layers()) {
    layers.push_back({{"layer_idx", l.layer_idx()},
                      {"layer_name", l.layer_name()},
                      {"bytes", l.bytes()},
                      {"chunks", l.chunks()},
                      {"new_chunks", l.new_chunks()},
                      {"new_bytes", l.new_bytes()},
                      {"sharing", SharingName(l.sharing())}});
  }
  json out = {{"file", file},
              {"model", ModelToJson(r.model())},
              {"format", r.format()},
              {"bytes_received", r.bytes_received()},
              {"new_bytes_stored", r.new_bytes_stored()},
              {"atoms", r.atoms()},
              {"new_atoms", r.new_atoms()},
              {"chunk_bytes", r.chunk_bytes()},
              {"file_sha256", r.file_sha256()},
              {"layers", layers}};
  if (r.has_quantized()) out["quantized"] = QuantizedToJson(r.quantized());
  return out;
}

}  // namespace

void RunModelImport(const Invocation& invocation) {
  if (invocation.Has("name") && invocation.args.size() != 1) {
    throw UsageError("--name names one model: give one FILE with it");
  }
  if (invocation.Has("quantized-name") && invocation.args.size() != 1) {
    throw UsageError("--quantized-name names one model: give one FILE with it");
  }
  for (const char* flag : {"quantized-name", "quantize-layers", "saturate", "requantize"}) {
    if (invocation.Has(flag) && !invocation.Has("quantize")) {
      throw UsageError(std::string("--") + flag + ": only with --quantize T");
    }
  }
  std::vector<uint64_t> sizes;
  // An ONNX file's external data files: the locations it names, beside it.
  struct ExternalFile {
    std::string location;
    std::filesystem::path path;
    uint64_t size = 0;
  };
  std::vector<std::vector<ExternalFile>> externals;
  uint64_t total = 0;
  for (const std::string& path : invocation.args) {
    std::error_code error;
    const uint64_t size = std::filesystem::file_size(path, error);
    if (error) throw Failure("cannot read '" + path + "': " + error.message());
    sizes.push_back(size);
    total += size;
    std::vector<ExternalFile>& files = externals.emplace_back();
    const bool onnx = invocation.Has("format") ? invocation.Get("format") == "onnx"
                                               : std::filesystem::path(path).extension() == ".onnx";
    if (!onnx) continue;
    std::ifstream in(path, std::ios::binary);
    const std::string model((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw Failure("cannot read '" + path + "'");
    const std::filesystem::path directory = std::filesystem::path(path).parent_path();
    // Every location is checked before any file is read.
    for (const std::string& location : OnnxExternalLocations(model)) {
      ExternalFile file;
      file.location = location;
      try {
        file.path = ResolveExternalLocation(directory.empty() ? "." : directory, location);
      } catch (const Failure& failure) {
        throw Failure(path + ": " + failure.what());
      }
      files.push_back(std::move(file));
    }
    for (ExternalFile& file : files) {
      file.size = std::filesystem::file_size(file.path, error);
      if (error) {
        throw Failure(path + ": cannot read its external data '" + file.path.string() +
                      "': " + error.message());
      }
      total += file.size;
    }
  }
  Client client(MakeClientOptions(invocation.global));
  ProgressBar progress(STDERR_FILENO, invocation.args.size(), total);
  json results = json::array();
  uint64_t done_bytes = 0;
  for (size_t i = 0; i < invocation.args.size(); ++i) {
    const std::string& path = invocation.args[i];
    std::ifstream file(path, std::ios::binary);
    if (!file) throw Failure("cannot read '" + path + "'");
    v1::ImportModelStart start;
    v1::Model* model = start.mutable_model();
    model->set_model_name(invocation.Has("name") ? invocation.Get("name") : NameFromFile(path));
    model->set_model_type(invocation.Get("type"));
    model->set_architecture(invocation.Get("architecture"));
    model->mutable_metadata()->set_license(invocation.Get("license"));
    model->mutable_metadata()->set_source_url(invocation.Get("source-url"));
    start.set_format(invocation.Get("format"));
    start.set_file_name(std::filesystem::path(path).filename().string());
    start.set_file_size(sizes[i]);
    start.set_chunk_bytes(static_cast<uint32_t>(invocation.GetUint("chunk-bytes", 0)));
    if (invocation.Has("quantize")) {
      v1::ImportQuantization* q = start.mutable_quantize();
      q->set_type(invocation.Get("quantize"));
      q->set_name(invocation.Get("quantized-name"));
      if (invocation.Has("quantize-layers")) AddLayerList(invocation.Get("quantize-layers"), q);
      q->set_saturate(invocation.Has("saturate"));
      q->set_requantize(invocation.Has("requantize"));
    }
    std::vector<std::ifstream> streams;
    streams.reserve(externals[i].size());
    std::vector<Client::ImportExternal> external_files;
    uint64_t file_bytes = sizes[i];
    for (const ExternalFile& e : externals[i]) {
      streams.emplace_back(e.path, std::ios::binary);
      if (!streams.back()) throw Failure(path + ": cannot read '" + e.path.string() + "'");
      Client::ImportExternal x;
      x.location = e.location;
      x.size = e.size;
      x.stream = &streams.back();
      external_files.push_back(x);
      file_bytes += e.size;
    }
    v1::ImportModelResponse response;
    const grpc::Status status =
        client.ImportModel(start, file, external_files, &response,
                           [&](uint64_t sent) { progress.Update(i, done_bytes + sent); });
    progress.Clear();
    if (!status.ok()) {
      const Failure failure = RpcFailure(status);
      throw Failure(path + ": " + failure.what(), failure.code(), failure.field(),
                    failure.detail());
    }
    done_bytes += file_bytes;
    progress.Update(i + 1, done_bytes);
    if (invocation.global.json) {
      results.push_back(ImportToJson(path, response));
      continue;
    }
    uint64_t shared = 0, partly = 0;
    for (const auto& l : response.layers()) {
      shared += l.sharing() == v1::LAYER_SHARING_SHARED;
      partly += l.sharing() == v1::LAYER_SHARING_PARTLY_SHARED;
    }
    std::cout << "imported " << path << " as model " << response.model().model_id() << " '"
              << response.model().model_name() << "' (" << response.format() << ", "
              << response.layers_size() << " layers, " << FormatBytes(response.bytes_received())
              << "): " << FormatBytes(response.new_bytes_stored()) << " new, " << shared
              << " layers shared, " << partly << " partly shared\n";
    if (response.has_quantized()) {
      const v1::QuantizeModelResponse& q = response.quantized();
      int quantized = 0;
      for (const auto& l : q.layers()) quantized += l.quantized();
      std::cout << "  and its quantized copy, model " << q.model().model_id() << " '"
                << q.model().model_name() << "' (" << quantized << " of " << q.layers_size()
                << " layers to " << invocation.Get("quantize")
                << "): " << FormatBytes(q.new_bytes_stored()) << " new\n";
    }
  }
  progress.Clear();
  if (invocation.global.json)
    PrintJson(std::cout, invocation.args.size() == 1 ? results[0] : results);
}

void RunModelExport(const Invocation& invocation) {
  const std::string output = invocation.Get("output");
  OutputFile out(output);
  v1::ExportModelRequest request;
  SetModelKey(invocation.args[0], &request);
  request.set_format(invocation.Get("format"));
  Client client(MakeClientOptions(invocation.global));
  v1::ExportModelHeader header;
  std::optional<ProgressBar> progress;
  // An ONNX model's external data files, written beside the output file
  // under the location the model names.
  std::vector<v1::ExportExternalFile> externals;
  std::vector<std::filesystem::path> external_paths;
  std::vector<std::unique_ptr<OutputFile>> external_out;
  std::string refused;
  const grpc::Status exported = client.ExportModel(
      request, &header,
      [&](std::string_view bytes) {
        if (!external_out.empty()) return external_out.back()->Write(bytes);
        if (!progress) progress.emplace(STDERR_FILENO, 1, header.file_size());
        const bool ok = out.Write(bytes);
        progress->Update(0, out.written());
        return ok;
      },
      [&](const v1::ExportExternalFile& file) {
        if (out.is_stdout()) {
          refused = "the model's ONNX file has external data files (\"" + file.location() +
                    "\"): give --output FILE to write them beside it";
          return false;
        }
        const std::filesystem::path directory = std::filesystem::path(output).parent_path();
        try {
          const std::filesystem::path path =
              ResolveExternalLocation(directory.empty() ? "." : directory, file.location());
          if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
          external_out.push_back(std::make_unique<OutputFile>(path.string()));
          externals.push_back(file);
          external_paths.push_back(path);
        } catch (const std::exception& failure) {
          refused = failure.what();
          return false;
        }
        return true;
      });
  if (!refused.empty()) throw Failure(refused);
  Check(exported);
  if (progress) progress->Clear();
  out.CheckSize(header.file_size(), "file");
  for (size_t k = 0; k < external_out.size(); ++k) {
    external_out[k]->CheckSize(externals[k].file_size(), "external file");
    external_out[k]->Close();
  }
  if (out.is_stdout()) return;
  out.Close();
  const uint64_t written = out.written();
  if (invocation.global.json) {
    json files = json::array();
    for (size_t k = 0; k < externals.size(); ++k) {
      files.push_back({{"location", externals[k].location()},
                       {"bytes", externals[k].file_size()},
                       {"file_sha256", externals[k].file_sha256()},
                       {"output", external_paths[k].string()}});
    }
    json result = {{"format", header.format()},
                   {"file_name", header.file_name()},
                   {"bytes", written},
                   {"file_sha256", header.file_sha256()},
                   {"output", output}};
    if (!externals.empty()) result["external_files"] = files;
    PrintJson(std::cout, result);
  } else {
    std::cout << "wrote " << written << " bytes (" << header.format()
              << (header.file_sha256().empty() ? "" : ", sha256 " + header.file_sha256()) << ") to "
              << output << "\n";
    for (size_t k = 0; k < externals.size(); ++k) {
      std::cout << "wrote " << externals[k].file_size() << " bytes (external data \""
                << externals[k].location() << "\""
                << (externals[k].file_sha256().empty() ? ""
                                                       : ", sha256 " + externals[k].file_sha256())
                << ") to " << external_paths[k].string() << "\n";
    }
  }
}

std::vector<OptionSpec> ModelStudentOptions() {
  return {{"ratio", 0, "R", "share of the layers kept, in (0, 1] (required)"},
          {"name", 0, "NAME", "the student model's name (required)"}};
}

void RunModelExtractStudent(const Invocation& invocation) {
  if (!invocation.Has("ratio") || !invocation.Has("name")) {
    throw UsageError("model extract-student needs --ratio R and --name NAME");
  }
  v1::ExtractStudentRequest request;
  SetModelKey(invocation.args[0], &request);
  request.set_student_name(invocation.Get("name"));
  const std::string ratio = invocation.Get("ratio");
  char* end = nullptr;
  request.set_target_ratio(std::strtod(ratio.c_str(), &end));
  if (end == ratio.c_str() || *end != '\0') throw UsageError("--ratio: not a number: " + ratio);
  const v1::ExtractStudentResponse r = Call(invocation, &Client::ExtractStudent, request);
  if (invocation.global.json) {
    json layers = json::array();
    for (const auto& l : r.layers()) {
      layers.push_back({{"layer_idx", l.layer_idx()},
                        {"layer_name", l.layer_name()},
                        {"importance", l.importance()},
                        {"importance_given", l.importance_given()},
                        {"importance_known", l.importance_known()},
                        {"kept", l.kept()},
                        {"student_layer_idx", l.student_layer_idx()}});
    }
    PrintJson(std::cout, {{"model", ModelToJson(r.model())},
                          {"layers_kept", r.layers_kept()},
                          {"layers_total", r.layers_total()},
                          {"bytes_shared", r.bytes_shared()},
                          {"layers", layers}});
    return;
  }
  std::cout << "extracted model " << r.model().model_id() << " '" << r.model().model_name()
            << "': " << r.layers_kept() << " of " << r.layers_total() << " layers, "
            << FormatBytes(r.bytes_shared()) << " of tensors shared (none copied)\n";
}

std::vector<OptionSpec> ModelGeometryOptions() {
  return {{"start", 0, "N", "first flat index (default 0)"},
          {"max-points", 0, "N", "points at most (default 100000, at most 1000000)"}};
}

void RunModelGeometry(const Invocation& invocation) {
  v1::ExportLayerGeometryRequest request;
  SetModelKey(invocation.args[0], &request);
  request.set_layer_idx(static_cast<uint32_t>(ParseUint64(invocation.args[1], "layer index")));
  request.set_start_index(invocation.GetUint("start", 0));
  request.set_max_points(static_cast<uint32_t>(invocation.GetUint("max-points", 0)));
  Client client(MakeClientOptions(invocation.global));
  json lines = json::array();
  v1::LayerGeometry last;
  Check(client.ExportLayerGeometry(request, [&](const v1::LayerGeometry& g) {
    if (g.points() > 0) {
      if (invocation.global.json) {
        lines.push_back(g.wkt());
      } else {
        std::cout << g.wkt() << "\n";
      }
    }
    last = g;
    return static_cast<bool>(std::cout);
  }));
  if (invocation.global.json) {
    PrintJson(
        std::cout,
        {{"wkt", lines}, {"total_points", last.total_points()}, {"next_index", last.next_index()}});
  } else if (last.next_index() < last.total_points()) {
    std::cout.flush();
    std::cerr << "more points: --start " << last.next_index() << " (of " << last.total_points()
              << ")\n";
  }
}

std::vector<OptionSpec> ModelQuantizeOptions() {
  return {{"type", 0, "T", "int8, q8_0, q4_0, f16 or bf16 (required)"},
          {"name", 0, "NAME", "the quantized model's name (required)"},
          {"layers", 0, "I,J,...", "layer indexes (default: every layer that suits the type)"},
          {"saturate", 0, "", "clamp values beyond fp16's range instead of refusing"},
          {"requantize", 0, "", "allow layers that are quantized already"}};
}

void RunModelQuantize(const Invocation& invocation) {
  if (!invocation.Has("type") || !invocation.Has("name")) {
    throw UsageError("model quantize needs --type T and --name NAME");
  }
  v1::QuantizeModelRequest request;
  SetModelKey(invocation.args[0], &request);
  request.set_type(invocation.Get("type"));
  request.set_name(invocation.Get("name"));
  if (invocation.Has("layers")) AddLayerList(invocation.Get("layers"), &request);
  request.set_saturate(invocation.Has("saturate"));
  request.set_requantize(invocation.Has("requantize"));
  const v1::QuantizeModelResponse r = Call(invocation, &Client::QuantizeModel, request);
  if (invocation.global.json) {
    PrintJson(std::cout, QuantizedToJson(r));
    return;
  }
  auto fixed = [](double v, int digits) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(digits);
    out << v;
    return out.str();
  };
  Table table({{"IDX", true},
               {"LAYER"},
               {"FROM"},
               {"TO"},
               {"SNR_DB", true},
               {"REL_RMSE", true},
               {"MAX_ERR", true},
               {"NOTE"}});
  for (const auto& l : r.layers()) {
    table.AddRow({std::to_string(l.layer_idx()), l.layer_name(), l.dtype_before(), l.dtype_after(),
                  l.quantized() ? fixed(l.snr_db(), 2) : "",
                  l.quantized() ? fixed(l.relative_rmse(), 5) : "",
                  l.quantized() ? fixed(l.max_abs_error(), 6) : "", l.skipped()});
  }
  table.Flush(std::cout);
  std::cout << "created model " << r.model().model_id() << " '" << r.model().model_name()
            << "': " << FormatBytes(r.new_bytes_stored()) << " new, "
            << FormatBytes(r.bytes_shared()) << " shared with the source\n";
}

namespace {

// A layer named by MODEL and LAYER_IDX arguments.
template <typename Request>
void SetLayerKey(const Invocation& invocation, Request* request) {
  SetModelKey(invocation.args[0], request);
  request->set_layer_idx(static_cast<uint32_t>(ParseUint64(invocation.args[1], "layer index")));
}

// Values from a file ('-' = stdin): float32 little-endian, or with text
// numbers separated by white space.
std::vector<float> ReadValues(const std::string& path, bool text) {
  const std::string bytes = ReadWholeFile(path);
  std::vector<float> values;
  if (!text) {
    if (bytes.size() % sizeof(float) != 0) {
      throw UsageError("--file: " + std::to_string(bytes.size()) +
                       " bytes is not a whole number of float32 values (use --text for numbers "
                       "as text)");
    }
    values.resize(bytes.size() / sizeof(float));
    std::memcpy(values.data(), bytes.data(), bytes.size());
    return values;
  }
  std::istringstream in(bytes);
  std::string word;
  while (in >> word) {
    char* end = nullptr;
    const float v = std::strtof(word.c_str(), &end);
    if (end == word.c_str() || *end != '\0') {
      throw UsageError("--file: value " + std::to_string(values.size()) + " ('" + word +
                       "') is not a number");
    }
    values.push_back(v);
  }
  return values;
}

v1::LayerType ParseLayerType(const std::string& name) {
  for (auto type : {v1::LAYER_TYPE_EMBEDDING, v1::LAYER_TYPE_ATTENTION, v1::LAYER_TYPE_FEEDFORWARD,
                    v1::LAYER_TYPE_NORM, v1::LAYER_TYPE_OTHER}) {
    if (name == LayerTypeName(type)) return type;
  }
  throw UsageError("--type: one of embedding, attention, feedforward, norm, other (got '" + name +
                   "')");
}

}  // namespace

std::vector<OptionSpec> ModelSetValuesOptions() {
  return {{"kind", 0, "K", "importance or temporal (required)"},
          {"file", 'f', "FILE",
           "the values, one per parameter in flat index order: float32 little-endian ('-' = "
           "stdin)"},
          {"text", 0, "", "FILE holds the values as text numbers separated by white space"},
          {"clear", 0, "", "remove the layer's stored values of this kind instead"}};
}

void RunModelSetValues(const Invocation& invocation) {
  v1::SetLayerValuesStart start;
  SetLayerKey(invocation, &start);
  const std::string kind = invocation.Get("kind");
  if (kind == "importance") {
    start.set_kind(v1::LAYER_VALUE_KIND_IMPORTANCE);
  } else if (kind == "temporal") {
    start.set_kind(v1::LAYER_VALUE_KIND_TEMPORAL);
  } else {
    throw UsageError("--kind: importance or temporal (required)");
  }
  if (invocation.Has("clear") == invocation.Has("file")) {
    throw UsageError("model set-values needs one of --file FILE and --clear");
  }
  start.set_clear(invocation.Has("clear"));
  std::vector<float> values;
  if (invocation.Has("file")) values = ReadValues(invocation.Get("file"), invocation.Has("text"));
  Client client(MakeClientOptions(invocation.global));
  v1::SetLayerValuesResponse r;
  Check(client.SetLayerValues(start, values, &r));
  if (invocation.global.json) {
    PrintJson(std::cout, {{"layer", LayerToJson(r.layer())},
                          {"kind", kind},
                          {"values", r.values()},
                          {"chunks", r.chunks()},
                          {"new_bytes_stored", r.new_bytes_stored()},
                          {"rows_replaced", r.rows_replaced()},
                          {"atoms_purged", r.atoms_purged()}});
    return;
  }
  std::cout << (start.clear() ? "cleared " : "stored ") << r.values() << " " << kind
            << " values of layer " << r.layer().layer_idx() << " ('" << r.layer().layer_name()
            << "') in " << r.chunks() << " chunks (" << FormatBytes(r.new_bytes_stored())
            << " new); " << r.rows_replaced() << " old rows released, " << r.atoms_purged()
            << " atoms purged\n";
}

std::vector<OptionSpec> ModelUpdateLayerOptions() {
  return {
      {"name", 0, "NAME", "new layer name"},
      {"type", 0, "T", "embedding, attention, feedforward, norm or other"},
      {"parameters-json", 0, "FILE", "the layer's parameters: a JSON object file ('-' = stdin)"},
      {"importance", 0, "X", "the layer's importance (a finite number)"},
      {"clear-importance", 0, "", "unset the layer's importance"}};
}

void RunModelUpdateLayer(const Invocation& invocation) {
  v1::UpdateLayerRequest request;
  SetLayerKey(invocation, &request);
  v1::ModelLayer* layer = request.mutable_layer();
  auto mask = [&](const char* path) { request.mutable_update_mask()->add_paths(path); };
  if (invocation.Has("name")) {
    layer->set_layer_name(invocation.Get("name"));
    mask("layer_name");
  }
  if (invocation.Has("type")) {
    layer->set_layer_type(ParseLayerType(invocation.Get("type")));
    mask("layer_type");
  }
  if (invocation.Has("parameters-json")) {
    layer->set_parameters_json(ReadWholeFile(invocation.Get("parameters-json")));
    mask("parameters_json");
  }
  if (invocation.Has("importance") && invocation.Has("clear-importance")) {
    throw UsageError("--importance: not with --clear-importance");
  }
  if (invocation.Has("importance")) {
    layer->set_importance(ParseDouble(invocation.Get("importance"), "--importance"));
    mask("importance");
  }
  if (invocation.Has("clear-importance")) mask("importance");
  if (request.update_mask().paths_size() == 0) {
    throw UsageError("model update-layer needs at least one field to change (see --help)");
  }
  const v1::ModelLayer updated = Call(invocation, &Client::UpdateLayer, request);
  if (invocation.global.json) {
    PrintJson(std::cout, LayerToJson(updated));
    return;
  }
  std::cout << "updated layer " << updated.layer_idx() << " ('" << updated.layer_name()
            << "') of model " << updated.model_id() << ": importance "
            << (updated.has_importance() ? json(updated.importance()).dump() : "unset") << "\n";
}

void RunModelDeleteLayer(const Invocation& invocation) {
  v1::DeleteLayerRequest request;
  SetLayerKey(invocation, &request);
  const v1::DeleteLayerResponse r = Call(invocation, &Client::DeleteLayer, request);
  if (invocation.global.json) {
    PrintJson(std::cout, {{"layer_id", r.layer_id()},
                          {"model_id", r.model_id()},
                          {"layer_idx", r.layer_idx()},
                          {"tensor_rows_detached", r.tensor_rows_detached()},
                          {"dependent_rows_removed", r.dependent_rows_removed()}});
    return;
  }
  std::cout << "deleted layer " << r.layer_idx() << " (id " << r.layer_id() << ") of model "
            << r.model_id() << "; " << r.tensor_rows_detached()
            << " tensor rows kept with the model, detached\n";
}

}  // namespace hartonomous::cli
