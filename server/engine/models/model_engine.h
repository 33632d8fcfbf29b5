// ModelEngine: the model catalog — the design document's Model, its
// one-to-one ModelMetadata and its ModelLayers: create (with layers), read,
// list with filters, update by field paths, delete with its cascade.
// Transport-free: no gRPC.
//
// Rules it enforces itself (CheckModel, CheckLayer): names unique, non-empty
// and bounded, identifier fields of a fixed alphabet, JSON fields bounded in
// bytes and depth (base/json_limits.h), layer_idx unique within a model,
// parameter counts consistent with tensor shapes. Messages name the request
// field ("model.model_name: ...", "layers[3].layer_idx: ...") and the rule.
// Request structure (which key is set, page_size, update mask paths) is the
// rpc layer's (server/rpc/model/model_validation.h).
//
// Writes go through the WriteBatcher: each method's writes are one request
// of a group commit, so they are durable when it returns and are committed
// all together or not at all.
//
// Cascade of DeleteModel, inside its one transaction: the model's dependent
// removers (AddModelDependentRemover: rows other domains keep per model or
// per layer), then its layers, its metadata row, its index entries and its
// record; the tensor atoms whose last reference it released are purged in
// the same transaction (SetAtomPurger). Inference logs of a deleted model
// are kept (they are not dependents).
//
// Thread-safety: thread-safe. Reads run on the caller's thread in LMDB read
// transactions; writes on the writer thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/engine/common/page_token.h"
#include "server/engine/common/response_budget.h"
#include "server/engine/models/formats/quantize.h"
#include "server/engine/models/quantized_copy.h"
#include "server/engine/models/tensor_store.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/model_table.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

class ModelImport;
class ModelExportStream;
class LayerValuesWriter;
struct ImportOptions;
struct ImportLimits;

// The values of ModelLayerRecord.layer_type (= hartonomous.v1.LayerType):
// 0 unspecified (never stored: CheckLayer guesses the type from the layer
// name with models::GuessLayerType, server/engine/models/formats/layer_type.h),
// 1 embedding, 2 attention, 3 feedforward, 4 norm, 5 other.
inline constexpr uint32_t kLayerTypeUnspecified = 0;
inline constexpr uint32_t kLayerTypeOther = 5;

// A model and its metadata row, as stored.
struct ModelView {
  storage::ModelRecord model;
  storage::ModelMetadataRecord metadata;
};

// A model named by id, or by name when the id is 0.
struct ModelKey {
  uint64_t model_id = 0;
  std::string model_name;
};

// A layer named by id, or, when layer_id is 0, by its model and layer_idx.
struct LayerKey {
  uint64_t layer_id = 0;
  ModelKey model;
  uint32_t layer_idx = 0;
};

// ListModels' filters; every non-empty one must hold.
struct ModelFilter {
  std::string model_name;   // exact
  std::string name_prefix;  // REQUIRES: empty when model_name is set
  std::string model_type;   // exact
  std::string architecture;
};

// UpdateModel's change: the new values of the fields named by paths.
struct ModelPatch {
  ModelView values;
  // Each one of UpdatableModelPaths(). Empty = every top-level path
  // (model_name, model_type, architecture, config_json, parameter_count,
  // metadata), without model_name when the model is named by name.
  std::vector<std::string> paths;
};

// The update mask paths UpdateModel accepts: model_name, model_type,
// architecture, config_json, parameter_count, metadata and
// metadata.<each ModelMetadata field>.
const std::vector<std::string>& UpdatableModelPaths();

struct ModelPage {
  std::vector<ModelView> models;
  std::string next_page_token;
};

struct LayerPage {
  std::vector<storage::ModelLayerRecord> layers;
  std::string next_page_token;
};

struct DeletedModel {
  uint64_t model_id = 0;
  uint64_t layers_deleted = 0;
  uint64_t atoms_purged = 0;  // tensor atoms only it held, purged with it
  uint64_t bytes_freed = 0;   // their content bytes
};

// Atoms purged by a model write (ModelEngine::AtomPurger).
struct PurgedAtoms {
  uint64_t atoms = 0;
  uint64_t bytes = 0;
};

// UpdateLayer's change: the new values of the fields named by paths.
struct LayerPatch {
  storage::ModelLayerRecord values;
  // Each one of UpdatableLayerPaths(); at least one.
  std::vector<std::string> paths;
};

// The update mask paths UpdateLayer accepts: layer_name, layer_type,
// parameters_json, importance.
const std::vector<std::string>& UpdatableLayerPaths();

struct DeletedLayer {
  storage::ModelLayerRecord layer;
  uint64_t tensor_rows_detached = 0;
  uint64_t dependent_rows_removed = 0;
};

// Limits of the catalog's fields (the rules of CheckModel and CheckLayer).
inline constexpr size_t kMaxModelNameBytes = 128;
inline constexpr size_t kMaxModelTokenBytes = 64;  // model_type, architecture, tasks
inline constexpr size_t kMaxConfigJsonBytes = size_t{1} << 20;
inline constexpr size_t kMaxSmallJsonBytes = size_t{64} << 10;  // metrics, layer parameters
inline constexpr size_t kMaxMetadataListEntries = 64;
inline constexpr size_t kMaxLayerNameBytes = 1024;
inline constexpr size_t kMaxTensorRank = 16;
inline constexpr size_t kMaxLayersPerCreate = 100000;

// The field rules of a model and its metadata (field names under "model.").
Status CheckModel(const ModelView& view);
// The field rules of one layer; field: e.g. "layers[3]". Fills in what the
// layer leaves to the server (parameter_count from tensor_shape, an
// unspecified layer_type from layer_name).
Status CheckLayer(std::string_view field, storage::ModelLayerRecord* layer);

// CreateModel's checks and the fields the server sets, also used by a model
// import's commit: CheckModel, CheckLayer of each layer (fields
// "layers[i]"), layer_idx unique, parameter_count summed from the layers
// when 0, ids and usage cleared, times now_us. Returns the approximate bytes
// the rows take (for the writer's grouping).
Result<size_t> PrepareNewModel(ModelView* view, std::vector<storage::ModelLayerRecord>* layers,
                               int64_t now_us);
// Inside txn: stores a prepared model (its id set in *view) and its layers
// (ids set). AlreadyExists naming model.model_name when the name is taken.
Status InsertNewModel(storage::WriteTxn& txn, const storage::ModelTable& table, ModelView* view,
                      std::vector<storage::ModelLayerRecord>* layers);

class ModelEngine {
 public:
  // A row kept per model or per layer by another domain, removed with the
  // model inside DeleteModel's transaction; returns the rows removed.
  // Receives the model and its layers (before they are deleted).
  using ModelDependentRemover =
      std::function<Result<uint64_t>(storage::WriteTxn&, const storage::ModelRecord& model,
                                     const std::vector<storage::ModelLayerRecord>& layers)>;

  // REQUIRES: env, tables and writer outlive the engine.
  ModelEngine(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
              std::string page_token_key);
  ~ModelEngine();
  ModelEngine(const ModelEngine&) = delete;
  ModelEngine& operator=(const ModelEngine&) = delete;

  // Registers a dependent remover (the daemon wires them, server/daemon.cc):
  // e.g. its layers' cached activations. (The references of the model's
  // tensor atoms and file pieces are released by DeleteModel itself.)
  // REQUIRES: called before the engine serves requests.
  void AddModelDependentRemover(ModelDependentRemover remover) {
    removers_.push_back(std::move(remover));
  }
  // A row kept per layer by another domain, removed inside DeleteLayer's
  // transaction; returns the rows removed. REQUIRES: called before the
  // engine serves requests.
  using LayerDependentRemover =
      std::function<Result<uint64_t>(storage::WriteTxn&, const storage::ModelLayerRecord& layer)>;
  void AddLayerDependentRemover(LayerDependentRemover remover) {
    layer_removers_.push_back(std::move(remover));
  }
  // Immediate purge: inside the write that released them (DeleteModel,
  // SetLayerValues replacing values), the tensor atoms whose last reference
  // it released are hard-deleted by this hook (the atom engine's purge, so
  // their dependent rows go too): it purges those of the ids that are
  // inactive. Without one they stay inactive until PurgeInactive.
  // REQUIRES: called before the engine serves requests.
  using AtomPurger =
      std::function<Result<PurgedAtoms>(storage::WriteTxn&, const std::vector<uint64_t>& atom_ids)>;
  void SetAtomPurger(AtomPurger purger) { purger_ = std::move(purger); }

  // Stores the model (id, ingestion date and layer_count set here; usage
  // statistics start at zero), its metadata row and its layers (ids set
  // here), all in one transaction. InvalidArgument per CheckModel,
  // CheckLayer or a layer_idx given twice; AlreadyExists naming
  // model.model_name when the name is taken.
  Result<ModelView> CreateModel(ModelView view, std::vector<storage::ModelLayerRecord> layers);
  // NotFound naming model_id or model_name.
  Result<ModelView> GetModel(const ModelKey& key);
  // page_size: REQUIRES 1..1000. In model_id order; with a name_prefix, in
  // name order. InvalidArgument naming page_token for a token of another
  // filter. With a budget the page ends early before the first model that
  // would not fit.
  Result<ModelPage> ListModels(const ModelFilter& filter, int page_size,
                               std::string_view page_token, ResponseBudget* budget = nullptr);
  // Applies the patch to the stored model and checks the result as
  // CheckModel does. InvalidArgument for model_name in paths when the key is
  // a name; NotFound; AlreadyExists for a new name that is taken.
  // REQUIRES: every path is one of UpdatableModelPaths().
  Result<ModelView> UpdateModel(const ModelKey& key, const ModelPatch& patch);
  // Deletes the model with its cascade (see the file comment).
  Result<DeletedModel> DeleteModel(const ModelKey& key);
  // CreateModel, UpdateModel and DeleteModel without waiting for the
  // commit: done receives their result on the writer thread after the
  // commit (short, must not block), or on the caller's thread for a
  // request refused before the write.
  using ModelDone = std::function<void(Result<ModelView>)>;
  using DeleteDone = std::function<void(Result<DeletedModel>)>;
  void CreateModelAsync(ModelView view, std::vector<storage::ModelLayerRecord> layers,
                        ModelDone done);
  void UpdateModelAsync(ModelKey key, ModelPatch patch, ModelDone done);
  void DeleteModelAsync(ModelKey key, DeleteDone done);
  // The model's layers in layer_idx order. page_size: REQUIRES 1..1000.
  Result<LayerPage> ListLayers(const ModelKey& key, int page_size, std::string_view page_token,
                               ResponseBudget* budget = nullptr);
  // NotFound naming layer_id, or the model, or layer_idx.
  Result<storage::ModelLayerRecord> GetLayer(const LayerKey& key);
  // Applies the patch to the stored layer and checks the result as
  // CheckLayer does (fields "layer.<name>"). InvalidArgument for an empty
  // or unknown path; NotFound as GetLayer.
  Result<storage::ModelLayerRecord> UpdateLayer(const LayerKey& key, const LayerPatch& patch);
  // Deletes one layer in one transaction: its row, its rows of other
  // domains (AddLayerDependentRemover), and the model's layer_count and
  // parameter_count (less the layer's, not below 0). Its "tensor_atoms"
  // rows stay with the model with layer_id 0 (detached: the design
  // document's null), keeping their references, so an imported file
  // still exports byte for byte; DeleteModel releases them. NotFound as
  // GetLayer.
  Result<DeletedLayer> DeleteLayer(const LayerKey& key);
  // UpdateLayer and DeleteLayer without waiting for the commit: done
  // receives their result on the writer thread after the commit (short,
  // must not block), or on the caller's thread for a request refused
  // before the write.
  using LayerDone = std::function<void(Result<storage::ModelLayerRecord>)>;
  using DeleteLayerDone = std::function<void(Result<DeletedLayer>)>;
  void UpdateLayerAsync(LayerKey key, LayerPatch patch, LayerDone done);
  void DeleteLayerAsync(LayerKey key, DeleteLayerDone done);
  // A new SetLayerValues write (layer_values_writer.h): Begin, Add for each
  // message's values, Finish (or drop it: what it staged is released).
  std::unique_ptr<LayerValuesWriter> StartLayerValues();

  // --- imported model files (model_import.h, model_export.h) ---
  // A new import; the caller calls Begin, then Add for each piece of the
  // stream, then Finish (or drops it: what it staged is released).
  std::unique_ptr<ModelImport> StartImport(ImportOptions options);
  // REQUIRES: called before the engine serves requests.
  void SetImportLimits(const ImportLimits& limits);
  // Releases the atoms of imports a crash cut short (at start-up, before
  // serving). Returns the imports abandoned.
  Result<uint64_t> AbandonInterruptedImports() { return store_.AbandonAll(); }

  // What an export streams first.
  struct ExportHeader {
    std::string format;
    std::string file_name;
    uint64_t file_size = 0;
    Sha256Digest file_sha256{};
  };
  // What starts each external data file of an ONNX model imported with
  // them (file_sha256 all zero when not claimed: a quantized copy's).
  struct ExportExternalHeader {
    std::string location;
    uint64_t file_size = 0;
    Sha256Digest file_sha256{};
  };
  // Streams the model as a file: begin(header) once, then sink(bytes) for
  // each piece in order; for an ONNX file with external data, then for
  // each external file external_begin(its header) and sink(bytes) for its
  // pieces (FailedPrecondition when external_begin is empty). Reads are done in short read
  // transactions, never across a sink call, and no whole file or layer is held in memory. format
  // (model_export_plan.h):
  //   "" (as stored): an imported model's file byte for byte (DataLoss when
  //     a stored piece is missing or the bytes do not hash to the file's
  //     SHA-256, checked at the end); any other model (a student, a
  //     quantized copy, a catalog entry whose layers hold values) as a
  //     safetensors file built from its layers (header.file_sha256 all
  //     zero: not known in advance).
  //   the format of the model's file ("safetensors", "gguf", "onnx"): that
  //     file; for a quantized copy, its source's file with each quantized
  //     layer's bytes replaced by its values dequantized to the file's
  //     dtype (the SHA-256 not claimed: all zero).
  //   "safetensors" / "gguf" otherwise: built from the layers (GGUF v3,
  //     Q8_0 / Q4_0 layers as ggml blocks).
  // InvalidArgument naming format for another name; NotFound naming the
  // model; FailedPrecondition "model <id> has no ONNX file" for onnx
  // without one, and naming the layer whose dtype the format cannot hold,
  // that has no stored values, or whose values cannot be written back.
  Status ExportModel(const ModelKey& key, const std::function<Status(const ExportHeader&)>& begin,
                     const std::function<Status(std::string_view)>& sink,
                     std::string_view format = {},
                     const std::function<Status(const ExportExternalHeader&)>& external_begin = {});
  // The same export read at the caller's pace (model_export_stream.h):
  // planned here, with the same errors; external_files: the caller can
  // receive an ONNX model's external data files (FailedPrecondition when it
  // cannot and the model has some).
  Result<std::unique_ptr<ModelExportStream>> OpenExport(const ModelKey& key,
                                                        std::string_view format,
                                                        bool external_files);

  // --- student extraction (model_student.cc) ---
  struct StudentLayer {
    uint32_t layer_idx = 0;  // in the teacher
    std::string layer_name;
    double importance = 0;
    bool importance_given = false;  // the layer's own; else mean |w| of its values
    bool importance_known = true;   // false: no float values to measure (ranked last)
    // "layer" (its importance), "weights" (mean of its stored per-weight
    // importance), "magnitude" (mean |w|), "" (not known).
    std::string importance_source;
    bool kept = false;
    uint32_t student_layer_idx = 0;
  };
  struct Student {
    ModelView model;
    uint32_t layers_kept = 0;
    uint64_t bytes_shared = 0;         // tensor bytes the student references
    std::vector<StudentLayer> layers;  // the teacher's, in layer_idx order
  };
  // The design document's student extraction: ranks the teacher's layers by
  // average importance (the layer's importance when set, else the mean of
  // its stored per-weight importance values when it has them, else the
  // mean absolute value of its weights), and creates student_name with the top
  // ceil(target_ratio x layers) of them (at least one), in teacher order
  // renumbered from 0, referencing the same tensor atoms (one more
  // reference each; no tensor byte is copied). REQUIRES: 0 < target_ratio
  // <= 1. NotFound for the teacher; AlreadyExists for a taken name;
  // FailedPrecondition for a teacher without layers.
  Result<Student> ExtractStudent(const ModelKey& teacher, double target_ratio,
                                 const std::string& student_name);

  // --- quantization (model_quantize.cc) ---
  struct QuantizeRequest {
    ModelKey source;
    std::string name;  // the new model's
    models::QuantType type = models::QuantType::kQ8_0;
    // Layers to quantize by layer_idx; empty = every layer with float
    // values whose shape suits the type (others are kept as they are).
    std::vector<uint32_t> layers;
    bool saturate = false;    // clamp values beyond fp16's range (counted)
    bool requantize = false;  // allow layers that are quantized already
  };
  using LayerQuantization = engine::LayerQuantization;  // quantized_copy.h
  struct Quantized {
    ModelView model;
    std::vector<LayerQuantization> layers;  // every layer of the source
    uint64_t new_bytes_stored = 0;          // quantized bytes not stored before
    uint64_t bytes_shared = 0;              // unquantized layers' bytes, referenced
  };
  // Creates request.name: a copy of the source whose chosen layers hold
  // their values quantized (llama.cpp's Q8_0 / Q4_0 blocks, int8 per row
  // with float32 row scales, f16, bf16) as new tensor atoms, the other
  // layers sharing the source's. Each quantized layer's error against the
  // original is measured (SNR, RMSE, relative RMSE, max |error|) and
  // checked against its group bound (INTERNAL on a violation). The source
  // stays. InvalidArgument naming the layer: values NaN or infinite,
  // beyond fp16's range without saturate, a listed layer without float
  // values or with rows that are not whole blocks of 32, a quantized layer
  // without requantize. All or nothing, like an import.
  Result<Quantized> QuantizeModel(const QuantizeRequest& request);

  // --- geometry view (model_geometry.cc) ---
  struct GeometryPage {
    uint64_t total_points = 0;  // the layer's parameter count
    uint64_t first_index = 0;
    uint64_t next_index = 0;  // == total_points when the layer is done
  };
  // The layer's values from first_index on, at most max_points of them, as
  // points (X = flat index, Y = value, Z = the stored per-weight
  // importance (kind 1) when the layer has one, else |value|, M = the
  // stored temporal value (kind 2), else 0), handed to
  // visit in order, in runs of at most run_points. FailedPrecondition for
  // a dtype without float values or a layer without stored values.
  struct GeometryPoint {
    double x, y, z, m;
  };
  Result<GeometryPage> LayerGeometry(
      const LayerKey& key, uint64_t first_index, uint64_t max_points, size_t run_points,
      const std::function<Status(const std::vector<GeometryPoint>&)>& visit);

 private:
  friend class LayerValuesWriter;
  Result<ModelView> Resolve(storage::Txn& txn, const ModelKey& key) const;
  // GetLayer inside txn.
  Result<storage::ModelLayerRecord> ResolveLayer(storage::Txn& txn, const LayerKey& key) const;
  // Inside txn, after the releases: purges those of released that are
  // inactive now (through purger_; nothing without one).
  Result<PurgedAtoms> PurgeReleased(storage::WriteTxn& txn, const std::vector<uint64_t>& released);
  // The model's layers and, per layer, the atoms (and byte lengths) of its
  // kind-0 values in order.
  using LayerValues = SourceLayer;  // quantized_copy.h
  Result<std::vector<LayerValues>> ReadLayerValues(storage::Txn& txn, uint64_t model_id) const;
  // Inside DeleteModel: releases the references the model's "tensor_atoms"
  // rows and file pieces hold and deletes those rows. Returns the rows.
  // The atoms whose references were released are added to *released.
  Result<uint64_t> ReleaseModelAtoms(storage::WriteTxn& txn, uint64_t model_id,
                                     std::vector<uint64_t>* released = nullptr);

  storage::Env& env_;
  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
  const storage::ModelTable table_;
  TensorStore store_;
  std::unique_ptr<ImportLimits> import_limits_;
  PageTokenCodec tokens_;
  std::vector<ModelDependentRemover> removers_;
  std::vector<LayerDependentRemover> layer_removers_;
  AtomPurger purger_;
};

}  // namespace hartonomous::engine
