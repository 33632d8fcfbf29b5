// ModelEngine::QuantizeModel: a quantized copy of a model whose new layer
// values are stored as tensor atoms (staged like an import's; the work is
// QuantizedCopy's, quantized_copy.h).
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/quantized_copy.h"

namespace hartonomous::engine {

Result<ModelEngine::Quantized> ModelEngine::QuantizeModel(const QuantizeRequest& request) {
  Quantized result;
  uint64_t source_id = 0;
  ModelView source;
  std::vector<LayerValues> layers;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_ASSIGN_OR_RETURN(source, Resolve(txn, request.source));
    source_id = source.model.model_id();
    HT_ASSIGN_OR_RETURN(layers, ReadLayerValues(txn, source_id));
  }
  QuantizedCopy copy(env_, tables_, store_);
  QuantizeSpec spec;
  spec.type = request.type;
  spec.layers = request.layers;
  spec.saturate = request.saturate;
  spec.requantize = request.requantize;
  HT_RETURN_IF_ERROR(copy.Prepare(layers, spec, "model " + std::to_string(source_id)));

  ModelView view = source;
  view.model.set_model_name(request.name);
  view.model.set_parameter_count(0);
  std::vector<storage::ModelLayerRecord> records = copy.records();
  const int64_t now = NowMicros();
  HT_ASSIGN_OR_RETURN(size_t bytes, PrepareNewModel(&view, &records, now));
  HT_RETURN_IF_ERROR(writer_.Write(
      [&](storage::WriteTxn& txn) -> Status {
        HT_RETURN_IF_ERROR(Resolve(txn, ModelKey{source_id, ""}).status());
        result.model = view;
        std::vector<storage::ModelLayerRecord> written = records;
        HT_RETURN_IF_ERROR(InsertNewModel(txn, table_, &result.model, &written));
        HT_ASSIGN_OR_RETURN(
            result.bytes_shared,
            copy.Insert(txn, source_id, result.model.model.model_id(), layers, written, now));
        return Status::Ok();
      },
      bytes + copy.pieces() * 64, /*items=*/0));
  copy.Committed();
  result.layers = copy.layers();
  result.new_bytes_stored = copy.new_bytes_stored();
  return result;
}

}  // namespace hartonomous::engine
