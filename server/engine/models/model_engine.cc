#include "server/engine/models/model_engine.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <utility>

#include "base/clock.h"
#include "base/json_limits.h"
#include "server/engine/common/await_result.h"
#include "server/engine/models/formats/layer_type.h"
#include "server/engine/models/model_import.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {

using storage::ModelLayerRecord;
using storage::ModelMetadataRecord;
using storage::ModelRecord;

namespace {

// --- field rules -------------------------------------------------------------

enum class Alphabet {
  kName,   // [A-Za-z0-9_.:/+-]
  kToken,  // [A-Za-z0-9_.-]
  kWord,   // [A-Za-z0-9_]
  kText,   // any bytes but NUL
};

bool InAlphabet(char c, Alphabet alphabet) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  switch (alphabet) {
    case Alphabet::kName:
      return alnum || c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '-';
    case Alphabet::kToken:
      return alnum || c == '_' || c == '.' || c == '-';
    case Alphabet::kWord:
      return alnum || c == '_';
    case Alphabet::kText:
      return c != '\0';
  }
  return false;
}

const char* AlphabetText(Alphabet alphabet) {
  switch (alphabet) {
    case Alphabet::kName:
      return " of [A-Za-z0-9_.:/+-]";
    case Alphabet::kToken:
      return " of [A-Za-z0-9_.-]";
    case Alphabet::kWord:
      return " of [A-Za-z0-9_]";
    case Alphabet::kText:
      return ", no NUL";
  }
  return "";
}

// A string field's rule: its length in [min, max] bytes, every byte of the
// alphabet.
template <typename Record>
struct TextRule {
  const char* field;
  const std::string& (Record::*get)() const;
  size_t min, max;
  Alphabet alphabet;
};

template <typename Record>
Status CheckText(std::string_view prefix, const TextRule<Record>& rule, const std::string& value) {
  bool ok = value.size() >= rule.min && value.size() <= rule.max;
  for (char c : value) ok = ok && InAlphabet(c, rule.alphabet);
  if (ok) return Status::Ok();
  return Status::InvalidArgument(
      std::string(prefix) + rule.field + ": " + (rule.min > 0 ? "required, " : "") +
      std::to_string(rule.min) + "-" + std::to_string(rule.max) + " bytes" +
      AlphabetText(rule.alphabet) + " (got " + std::to_string(value.size()) + " bytes)");
}

template <typename Record, size_t N>
Status CheckTexts(std::string_view prefix, const Record& record,
                  const TextRule<Record> (&rules)[N]) {
  for (const auto& rule : rules) {
    HT_RETURN_IF_ERROR(CheckText(prefix, rule, (record.*rule.get)()));
  }
  return Status::Ok();
}

const TextRule<ModelRecord> kModelRules[] = {
    {"model_name", &ModelRecord::model_name, 1, kMaxModelNameBytes, Alphabet::kName},
    {"model_type", &ModelRecord::model_type, 0, kMaxModelTokenBytes, Alphabet::kToken},
    {"architecture", &ModelRecord::architecture, 0, kMaxModelTokenBytes, Alphabet::kToken},
};

const TextRule<ModelMetadataRecord> kMetadataRules[] = {
    {"training_dataset", &ModelMetadataRecord::training_dataset, 0, 1024, Alphabet::kText},
    {"license", &ModelMetadataRecord::license, 0, 256, Alphabet::kText},
    {"source_url", &ModelMetadataRecord::source_url, 0, 2048, Alphabet::kText},
};

const TextRule<ModelLayerRecord> kLayerRules[] = {
    {"layer_name", &ModelLayerRecord::layer_name, 1, kMaxLayerNameBytes, Alphabet::kText},
    {"tensor_dtype", &ModelLayerRecord::tensor_dtype, 0, 32, Alphabet::kWord},
    {"quantization_type", &ModelLayerRecord::quantization_type, 0, 32, Alphabet::kWord},
};

// A repeated string field: at most kMaxMetadataListEntries entries, each a
// 1-64 byte token.
Status CheckList(const std::string& field,
                 const google::protobuf::RepeatedPtrField<std::string>& values) {
  if (static_cast<size_t>(values.size()) > kMaxMetadataListEntries) {
    return Status::InvalidArgument(field + ": at most " + std::to_string(kMaxMetadataListEntries) +
                                   " entries, got " + std::to_string(values.size()));
  }
  for (int i = 0; i < values.size(); ++i) {
    bool ok = !values[i].empty() && values[i].size() <= kMaxModelTokenBytes;
    for (char c : values[i]) ok = ok && InAlphabet(c, Alphabet::kToken);
    if (!ok) {
      return Status::InvalidArgument(field + "[" + std::to_string(i) + "]: 1-" +
                                     std::to_string(kMaxModelTokenBytes) + " bytes" +
                                     AlphabetText(Alphabet::kToken));
    }
  }
  return Status::Ok();
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status CheckFinite(const std::string& field, bool has, double value) {
  if (!has || std::isfinite(value)) return Status::Ok();
  return Status::InvalidArgument(field + ": must be finite, got " +
                                 (std::isnan(value) ? "NaN" : "Inf"));
}

// a * b, or false when it overflows.
bool MultiplyChecked(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

// --- layer type --------------------------------------------------------------

uint32_t LayerTypeValue(models::LayerType type) {
  switch (type) {
    case models::LayerType::kEmbedding:
      return 1;
    case models::LayerType::kAttention:
      return 2;
    case models::LayerType::kFeedforward:
      return 3;
    case models::LayerType::kNorm:
      return 4;
    case models::LayerType::kOther:
      return kLayerTypeOther;
  }
  return kLayerTypeOther;
}

// --- update paths ------------------------------------------------------------

using PathSetter = void (*)(const ModelView& from, ModelView* to);

#define HT_MODEL_FIELD(path, field)                                                       \
  {                                                                                       \
    path, [](const ModelView& f, ModelView* t) { t->model.set_##field(f.model.field()); } \
  }
#define HT_METADATA_FIELD(field)                               \
  {                                                            \
    "metadata." #field, [](const ModelView& f, ModelView* t) { \
      *t->metadata.mutable_##field() = f.metadata.field();     \
    }                                                          \
  }
#define HT_METADATA_SCALAR(field)                                                             \
  {                                                                                           \
    "metadata." #field,                                                                       \
        [](const ModelView& f, ModelView* t) { t->metadata.set_##field(f.metadata.field()); } \
  }

const std::vector<std::pair<std::string, PathSetter>>& PathSetters() {
  static const std::vector<std::pair<std::string, PathSetter>> kSetters = {
      HT_MODEL_FIELD("model_name", model_name),
      HT_MODEL_FIELD("model_type", model_type),
      HT_MODEL_FIELD("architecture", architecture),
      HT_MODEL_FIELD("config_json", config_json),
      HT_MODEL_FIELD("parameter_count", parameter_count),
      {"metadata",
       [](const ModelView& f, ModelView* t) {
         const uint64_t id = t->metadata.model_id();
         t->metadata = f.metadata;
         t->metadata.set_model_id(id);
       }},
      HT_METADATA_FIELD(supported_tasks),
      HT_METADATA_FIELD(supported_modalities),
      HT_METADATA_SCALAR(max_input_length),
      HT_METADATA_SCALAR(max_output_length),
      HT_METADATA_SCALAR(embedding_dimension),
      HT_METADATA_SCALAR(performance_metrics),
      HT_METADATA_SCALAR(training_dataset),
      {"metadata.training_date",
       [](const ModelView& f, ModelView* t) {
         t->metadata.set_training_date_us(f.metadata.training_date_us());
       }},
      HT_METADATA_SCALAR(license),
      HT_METADATA_SCALAR(source_url),
  };
  return kSetters;
}

#undef HT_MODEL_FIELD
#undef HT_METADATA_FIELD
#undef HT_METADATA_SCALAR

const std::vector<std::string> kTopLevelPaths = {"model_name",  "model_type",      "architecture",
                                                 "config_json", "parameter_count", "metadata"};

// --- misc --------------------------------------------------------------------

Status NoSuchModel(const ModelKey& key) {
  if (key.model_id != 0) {
    return Status::NotFound("model_id: model " + std::to_string(key.model_id) + " does not exist");
  }
  return Status::NotFound("model_name: no model is named '" + key.model_name + "'");
}

// Upper bound of the encoded API message of a stored row: the record plus
// its timestamps.
size_t ModelBytes(const ModelView& v) {
  return v.model.ByteSizeLong() + v.metadata.ByteSizeLong() + 64;
}

size_t LayerBytes(const ModelLayerRecord& layer) { return layer.ByteSizeLong() + 32; }

}  // namespace

const std::vector<std::string>& UpdatableModelPaths() {
  static const std::vector<std::string> kPaths = [] {
    std::vector<std::string> paths;
    for (const auto& [path, setter] : PathSetters()) paths.push_back(path);
    return paths;
  }();
  return kPaths;
}

Status CheckModel(const ModelView& view) {
  const ModelRecord& m = view.model;
  HT_RETURN_IF_ERROR(CheckTexts("model.", m, kModelRules));
  if (AllDigits(m.model_name())) {
    return Status::InvalidArgument(
        "model.model_name: must not be all digits (a number names a model_id)");
  }
  HT_RETURN_IF_ERROR(
      ParseJsonObject("model.config_json", m.config_json(), kMaxConfigJsonBytes).status());
  const ModelMetadataRecord& md = view.metadata;
  HT_RETURN_IF_ERROR(CheckTexts("model.metadata.", md, kMetadataRules));
  HT_RETURN_IF_ERROR(CheckList("model.metadata.supported_tasks", md.supported_tasks()));
  HT_RETURN_IF_ERROR(CheckList("model.metadata.supported_modalities", md.supported_modalities()));
  return ParseJsonObject("model.metadata.performance_metrics", md.performance_metrics(),
                         kMaxSmallJsonBytes)
      .status();
}

Status CheckLayer(std::string_view field, ModelLayerRecord* layer) {
  const std::string prefix = std::string(field) + ".";
  HT_RETURN_IF_ERROR(CheckTexts(prefix, *layer, kLayerRules));
  if (layer->layer_type() > kLayerTypeOther) {
    return Status::InvalidArgument(prefix + "layer_type: unknown value " +
                                   std::to_string(layer->layer_type()));
  }
  if (static_cast<size_t>(layer->tensor_shape_size()) > kMaxTensorRank) {
    return Status::InvalidArgument(prefix + "tensor_shape: at most " +
                                   std::to_string(kMaxTensorRank) + " dimensions, got " +
                                   std::to_string(layer->tensor_shape_size()));
  }
  if (layer->tensor_shape_size() > 0) {
    uint64_t product = 1;
    for (uint64_t dim : layer->tensor_shape()) {
      if (!MultiplyChecked(product, dim, &product)) {
        return Status::InvalidArgument(prefix +
                                       "tensor_shape: the product of the dimensions overflows "
                                       "64 bits");
      }
    }
    if (layer->parameter_count() == 0) {
      layer->set_parameter_count(product);
    } else if (layer->parameter_count() != product) {
      return Status::InvalidArgument(
          prefix + "parameter_count: " + std::to_string(layer->parameter_count()) +
          " but tensor_shape holds " + std::to_string(product));
    }
  }
  HT_RETURN_IF_ERROR(
      ParseJsonObject(prefix + "parameters_json", layer->parameters_json(), kMaxSmallJsonBytes)
          .status());
  HT_RETURN_IF_ERROR(CheckFinite(prefix + "quantization_scale", layer->has_quantization_scale(),
                                 layer->quantization_scale()));
  HT_RETURN_IF_ERROR(
      CheckFinite(prefix + "importance", layer->has_importance(), layer->importance()));
  if (layer->layer_type() == kLayerTypeUnspecified) {
    layer->set_layer_type(LayerTypeValue(models::GuessLayerType(layer->layer_name())));
  }
  return Status::Ok();
}

ModelEngine::ModelEngine(storage::Env& env, const storage::Tables& tables,
                         storage::WriteBatcher& writer, std::string page_token_key)
    : env_(env),
      tables_(tables),
      writer_(writer),
      table_(tables),
      store_(env, tables, writer),
      import_limits_(std::make_unique<ImportLimits>()),
      tokens_(std::move(page_token_key)) {}

ModelEngine::~ModelEngine() = default;

std::unique_ptr<ModelImport> ModelEngine::StartImport(ImportOptions options) {
  return std::make_unique<ModelImport>(env_, tables_, writer_, store_, std::move(options),
                                       *import_limits_);
}

void ModelEngine::SetImportLimits(const ImportLimits& limits) { *import_limits_ = limits; }

Result<uint64_t> ModelEngine::ReleaseModelAtoms(storage::WriteTxn& txn, uint64_t model_id,
                                                std::vector<uint64_t>* released) {
  const int64_t now = NowMicros();
  storage::AtomTable atoms(tables_);
  const storage::TensorAtomTable tensors(tables_);
  std::vector<uint64_t> held;
  HT_RETURN_IF_ERROR(tensors.ScanModel(
      txn, model_id, [&](const storage::TensorChunkKey&, storage::TensorAtomRecord&& row) {
        held.push_back(row.atom_id());
        return true;
      }));
  HT_ASSIGN_OR_RETURN(auto file, tensors.files().Find(txn, model_id));
  if (file) {
    for (const auto& piece : file->pieces()) {
      if (piece.kind() != static_cast<uint32_t>(models::SegmentKind::kTensor)) {
        held.push_back(piece.atom_id());
      }
    }
    HT_RETURN_IF_ERROR(tensors.files().Remove(txn, model_id).status());
  }
  for (uint64_t id : held)
    HT_RETURN_IF_ERROR(TensorStore::ReleaseOne(txn, tables_, atoms, id, now, released));
  HT_ASSIGN_OR_RETURN(uint64_t rows, tensors.RemoveModel(txn, model_id));
  HT_RETURN_IF_ERROR(atoms.FlushCounters(txn));
  return rows + (file ? 1 : 0);
}

Result<PurgedAtoms> ModelEngine::PurgeReleased(storage::WriteTxn& txn,
                                               const std::vector<uint64_t>& released) {
  if (!purger_ || released.empty()) return PurgedAtoms{};
  return purger_(txn, released);
}

Result<ModelView> ModelEngine::Resolve(storage::Txn& txn, const ModelKey& key) const {
  std::optional<ModelRecord> record;
  if (key.model_id != 0) {
    HT_ASSIGN_OR_RETURN(record, table_.Find(txn, key.model_id));
  } else {
    HT_ASSIGN_OR_RETURN(record, table_.FindByName(txn, key.model_name));
  }
  if (!record) return NoSuchModel(key);
  ModelView view;
  view.model = std::move(*record);
  HT_ASSIGN_OR_RETURN(view.metadata, table_.GetMetadata(txn, view.model.model_id()));
  return view;
}

Result<size_t> PrepareNewModel(ModelView* view, std::vector<ModelLayerRecord>* layers,
                               int64_t now_us) {
  HT_RETURN_IF_ERROR(CheckModel(*view));
  if (layers->size() > kMaxLayersPerCreate) {
    return Status::InvalidArgument("layers: at most " + std::to_string(kMaxLayersPerCreate) +
                                   ", got " + std::to_string(layers->size()));
  }
  std::map<uint32_t, size_t> seen;  // layer_idx -> index in layers
  uint64_t parameters = 0;
  bool parameters_overflow = false;
  size_t bytes = view->model.ByteSizeLong() + view->metadata.ByteSizeLong();
  for (size_t i = 0; i < layers->size(); ++i) {
    ModelLayerRecord& layer = (*layers)[i];
    const std::string field = "layers[" + std::to_string(i) + "]";
    HT_RETURN_IF_ERROR(CheckLayer(field, &layer));
    auto [it, fresh] = seen.emplace(layer.layer_idx(), i);
    if (!fresh) {
      return Status::InvalidArgument(field + ".layer_idx: " + std::to_string(layer.layer_idx()) +
                                     " is also the layer_idx of layers[" +
                                     std::to_string(it->second) + "]");
    }
    parameters_overflow |= __builtin_add_overflow(parameters, layer.parameter_count(), &parameters);
    layer.set_layer_id(0);
    layer.set_cache_hit_rate(0);
    layer.set_avg_compute_time_ms(0);
    layer.set_created_at_us(now_us);
    bytes += layer.ByteSizeLong() + 32;
  }
  ModelRecord& m = view->model;
  if (m.parameter_count() == 0 && !layers->empty()) {
    if (parameters_overflow) {
      return Status::InvalidArgument(
          "model.parameter_count: the sum of the layers' parameter counts overflows 64 bits");
    }
    m.set_parameter_count(parameters);
  }
  m.set_model_id(0);
  m.set_ingestion_date_us(now_us);
  m.set_updated_at_us(now_us);
  m.set_last_used_us(0);
  m.set_usage_count(0);
  m.set_average_inference_ms(0);
  m.set_layer_count(static_cast<uint32_t>(layers->size()));
  return bytes;
}

Status InsertNewModel(storage::WriteTxn& txn, const storage::ModelTable& table, ModelView* view,
                      std::vector<ModelLayerRecord>* layers) {
  HT_RETURN_IF_ERROR(table.Insert(txn, &view->model, view->metadata).status());
  view->metadata.set_model_id(view->model.model_id());
  for (ModelLayerRecord& layer : *layers) {
    layer.set_model_id(view->model.model_id());
    HT_RETURN_IF_ERROR(table.InsertLayer(txn, &layer).status());
  }
  return Status::Ok();
}

Result<ModelView> ModelEngine::CreateModel(ModelView view, std::vector<ModelLayerRecord> layers) {
  return AwaitResult<ModelView>([&](ModelDone done) {
    CreateModelAsync(std::move(view), std::move(layers), std::move(done));
  });
}

void ModelEngine::CreateModelAsync(ModelView view, std::vector<ModelLayerRecord> layers,
                                   ModelDone done) {
  auto bytes = PrepareNewModel(&view, &layers, NowMicros());
  if (!bytes.ok()) return done(bytes.status());
  WriteThen<ModelView>(
      writer_,
      [this, view = std::move(view), layers = std::move(layers)](storage::WriteTxn& txn,
                                                                 ModelView& stored) -> Status {
        // Re-runnable (a retried group): every output is rebuilt from the inputs.
        stored = view;
        std::vector<ModelLayerRecord> written = layers;
        return InsertNewModel(txn, table_, &stored, &written);
      },
      std::move(done), *bytes, /*items=*/0);  // items count atoms (ServerStats.items_written)
}

Result<ModelView> ModelEngine::GetModel(const ModelKey& key) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  return Resolve(txn, key);
}

Result<ModelPage> ModelEngine::ListModels(const ModelFilter& filter, int page_size,
                                          std::string_view page_token, ResponseBudget* budget) {
  const uint64_t fingerprint = PageTokenCodec::Fingerprint(
      {"models", filter.model_name, filter.name_prefix, filter.model_type, filter.architecture});
  std::string after;
  if (!page_token.empty()) {
    HT_ASSIGN_OR_RETURN(after, tokens_.DecodeBytes(page_token, fingerprint));
  }
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  ModelPage page;
  auto keep = [&](const ModelRecord& m) {
    return (filter.model_name.empty() || m.model_name() == filter.model_name) &&
           (filter.model_type.empty() || m.model_type() == filter.model_type) &&
           (filter.architecture.empty() || m.architecture() == filter.architecture) &&
           m.model_name().compare(0, filter.name_prefix.size(), filter.name_prefix) == 0;
  };
  if (!filter.model_name.empty()) {
    // At most one model: no further page.
    if (!after.empty()) return page;
    HT_ASSIGN_OR_RETURN(std::optional<ModelRecord> record,
                        table_.FindByName(txn, filter.model_name));
    if (!record || !keep(*record)) return page;
    ModelView view;
    view.model = std::move(*record);
    HT_ASSIGN_OR_RETURN(view.metadata, table_.GetMetadata(txn, view.model.model_id()));
    if (budget != nullptr && !budget->TryChargeItem(ModelBytes(view))) {
      return budget->Exceeded("model " + std::to_string(view.model.model_id()) +
                              " alone is larger");
    }
    page.models.push_back(std::move(view));
    return page;
  }
  // The most selective index drives the scan; the other filters are checked
  // on each record.
  storage::ModelIndex index = storage::ModelIndex::kId;
  std::string value;
  if (!filter.name_prefix.empty()) {
    index = storage::ModelIndex::kName;
    value = filter.name_prefix;
  } else if (!filter.model_type.empty()) {
    index = storage::ModelIndex::kType;
    value = filter.model_type;
  } else if (!filter.architecture.empty()) {
    index = storage::ModelIndex::kArchitecture;
    value = filter.architecture;
  }
  std::string last;  // position of page.models.back()
  Status stopped;
  HT_RETURN_IF_ERROR(
      table_.ScanModels(txn, index, value, after, [&](std::string_view position, uint64_t id) {
        auto record = table_.Find(txn, id);
        if (!record.ok() || !*record) {
          stopped = record.ok() ? Status::DataLoss("models: index entry of model " +
                                                   std::to_string(id) + " has no record")
                                : record.status();
          return false;
        }
        if (!keep(**record)) return true;
        if (static_cast<int>(page.models.size()) == page_size) {
          page.next_page_token = tokens_.EncodeBytes(last, fingerprint);
          return false;
        }
        ModelView view;
        view.model = std::move(**record);
        auto metadata = table_.GetMetadata(txn, id);
        if (!metadata.ok()) {
          stopped = metadata.status();
          return false;
        }
        view.metadata = std::move(*metadata);
        if (budget != nullptr && !budget->TryChargeItem(ModelBytes(view))) {
          if (page.models.empty()) {
            stopped = budget->Exceeded("model " + std::to_string(id) + " alone is larger");
          } else {
            page.next_page_token = tokens_.EncodeBytes(last, fingerprint);
          }
          return false;
        }
        page.models.push_back(std::move(view));
        last = std::string(position);
        return true;
      }));
  HT_RETURN_IF_ERROR(stopped);
  return page;
}

Result<ModelView> ModelEngine::UpdateModel(const ModelKey& key, const ModelPatch& patch) {
  return AwaitResult<ModelView>(
      [&](ModelDone done) { UpdateModelAsync(key, patch, std::move(done)); });
}

void ModelEngine::UpdateModelAsync(ModelKey key, ModelPatch patch, ModelDone done) {
  std::vector<std::string> paths = patch.paths;
  if (paths.empty()) {
    for (const std::string& path : kTopLevelPaths) {
      if (path != "model_name" || key.model_id != 0) paths.push_back(path);
    }
  }
  std::vector<PathSetter> setters;
  for (const std::string& path : paths) {
    if (path == "model_name" && key.model_id == 0) {
      return done(Status::InvalidArgument(
          "update_mask: 'model_name' needs model.model_id (model.model_name names the model to "
          "update)"));
    }
    const auto& all = PathSetters();
    auto it = std::find_if(all.begin(), all.end(), [&](const auto& p) { return p.first == path; });
    if (it == all.end()) {
      return done(
          Status::InvalidArgument("update_mask: '" + path + "' is not an updatable model field"));
    }
    setters.push_back(it->second);
  }
  const int64_t now = NowMicros();
  WriteThen<ModelView>(
      writer_,
      [this, key = std::move(key), patch = std::move(patch), setters = std::move(setters), now](
          storage::WriteTxn& txn, ModelView& result) -> Status {
        HT_ASSIGN_OR_RETURN(ModelView old, Resolve(txn, key));
        ModelView updated = old;
        for (PathSetter set : setters) set(patch.values, &updated);
        HT_RETURN_IF_ERROR(CheckModel(updated));
        updated.model.set_updated_at_us(now);
        HT_RETURN_IF_ERROR(table_.Update(txn, old.model, updated.model, updated.metadata));
        result = std::move(updated);
        return Status::Ok();
      },
      std::move(done), 0, /*items=*/0);
}

Result<DeletedModel> ModelEngine::DeleteModel(const ModelKey& key) {
  return AwaitResult<DeletedModel>(
      [&](DeleteDone done) { DeleteModelAsync(key, std::move(done)); });
}

void ModelEngine::DeleteModelAsync(ModelKey key, DeleteDone done) {
  WriteThen<DeletedModel>(
      writer_,
      [this, key = std::move(key)](storage::WriteTxn& txn, DeletedModel& deleted) -> Status {
        HT_ASSIGN_OR_RETURN(ModelView view, Resolve(txn, key));
        if (!removers_.empty()) {
          std::vector<ModelLayerRecord> layers;
          HT_RETURN_IF_ERROR(
              table_.ScanLayers(txn, view.model.model_id(), 0, [&](ModelLayerRecord&& layer) {
                layers.push_back(std::move(layer));
                return true;
              }));
          for (const auto& remover : removers_) {
            HT_RETURN_IF_ERROR(remover(txn, view.model, layers).status());
          }
        }
        deleted.model_id = view.model.model_id();
        std::vector<uint64_t> released;
        HT_RETURN_IF_ERROR(ReleaseModelAtoms(txn, deleted.model_id, &released).status());
        HT_ASSIGN_OR_RETURN(deleted.layers_deleted, table_.Remove(txn, view.model));
        // The atoms only this model held go now, not at the next purge.
        HT_ASSIGN_OR_RETURN(PurgedAtoms purged, PurgeReleased(txn, released));
        deleted.atoms_purged = purged.atoms;
        deleted.bytes_freed = purged.bytes;
        return Status::Ok();
      },
      std::move(done), 0, /*items=*/0);
}

Result<LayerPage> ModelEngine::ListLayers(const ModelKey& key, int page_size,
                                          std::string_view page_token, ResponseBudget* budget) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(ModelView view, Resolve(txn, key));
  const uint64_t model_id = view.model.model_id();
  const uint64_t fingerprint = PageTokenCodec::Fingerprint({"layers", std::to_string(model_id)});
  uint64_t first = 0;  // the token holds the layer_idx the next page starts at
  if (!page_token.empty()) {
    HT_ASSIGN_OR_RETURN(first, tokens_.Decode(page_token, fingerprint));
  }
  LayerPage page;
  Status stopped;
  HT_RETURN_IF_ERROR(table_.ScanLayers(txn, model_id, first, [&](ModelLayerRecord&& layer) {
    if (static_cast<int>(page.layers.size()) == page_size) {
      page.next_page_token = tokens_.Encode(layer.layer_idx(), fingerprint);
      return false;
    }
    if (budget != nullptr && !budget->TryChargeItem(LayerBytes(layer))) {
      if (page.layers.empty()) {
        stopped =
            budget->Exceeded("layer " + std::to_string(layer.layer_id()) + " alone is larger");
      } else {
        page.next_page_token = tokens_.Encode(layer.layer_idx(), fingerprint);
      }
      return false;
    }
    page.layers.push_back(std::move(layer));
    return true;
  }));
  HT_RETURN_IF_ERROR(stopped);
  return page;
}

Result<ModelLayerRecord> ModelEngine::GetLayer(const LayerKey& key) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  return ResolveLayer(txn, key);
}

Result<ModelLayerRecord> ModelEngine::ResolveLayer(storage::Txn& txn, const LayerKey& key) const {
  if (key.layer_id != 0) {
    HT_ASSIGN_OR_RETURN(std::optional<ModelLayerRecord> layer,
                        table_.FindLayerById(txn, key.layer_id));
    if (!layer) {
      return Status::NotFound("layer_id: layer " + std::to_string(key.layer_id) +
                              " does not exist");
    }
    return std::move(*layer);
  }
  HT_ASSIGN_OR_RETURN(ModelView view, Resolve(txn, key.model));
  HT_ASSIGN_OR_RETURN(std::optional<ModelLayerRecord> layer,
                      table_.FindLayer(txn, view.model.model_id(), key.layer_idx));
  if (!layer) {
    return Status::NotFound("layer_idx: model '" + view.model.model_name() + "' has no layer " +
                            std::to_string(key.layer_idx));
  }
  return std::move(*layer);
}

}  // namespace hartonomous::engine
