#include "server/engine/models/layer_values_writer.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "base/clock.h"
#include "server/engine/models/model_import.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/import_staging_table.h"

namespace hartonomous::engine {
namespace {

// Staged pieces are written once about this many bytes are pending.
constexpr size_t kStageBytes = size_t{8} << 20;

std::string LayerText(const storage::ModelLayerRecord& layer) {
  return "layer " + std::to_string(layer.layer_id()) + " ('" + layer.layer_name() + "')";
}

}  // namespace

std::unique_ptr<LayerValuesWriter> ModelEngine::StartLayerValues() {
  return std::make_unique<LayerValuesWriter>(*this);
}

LayerValuesWriter::~LayerValuesWriter() {
  if (!committed_ && import_id_ != 0) (void)engine_.store_.Abandon(import_id_);
}

Status LayerValuesWriter::Begin(const LayerValuesOptions& options) {
  options_ = options;
  HT_ASSIGN_OR_RETURN(layer_, engine_.GetLayer(options.layer));
  return Status::Ok();
}

Status LayerValuesWriter::Add(const float* values, size_t n) {
  if (n == 0) return Status::Ok();
  if (options_.clear) return Status::InvalidArgument("values: none may follow start.clear");
  if (n > layer_.parameter_count() - received_) {
    return Status::InvalidArgument("values: " + LayerText(layer_) + " has " +
                                   std::to_string(layer_.parameter_count()) +
                                   " parameters, got more values");
  }
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      return Status::InvalidArgument("values[" + std::to_string(received_ + i) +
                                     "]: must be finite, got " +
                                     (std::isnan(values[i]) ? "NaN" : "Inf"));
    }
  }
  received_ += n;
  // float32 little-endian (the host's order: the server runs on
  // little-endian machines, as the formats it reads assume).
  const char* bytes = reinterpret_cast<const char*>(values);
  size_t left = n * sizeof(float);
  while (left > 0) {
    const size_t take = std::min(left, size_t{kDefaultChunkBytes} - chunk_.size());
    chunk_.append(bytes, take);
    bytes += take;
    left -= take;
    if (chunk_.size() == kDefaultChunkBytes) HT_RETURN_IF_ERROR(CutChunk());
  }
  return Status::Ok();
}

Status LayerValuesWriter::CutChunk() {
  if (chunk_.empty()) return Status::Ok();
  Chunk c;
  c.offset = chunks_.empty() ? 0 : chunks_.back().offset + chunks_.back().length;
  c.length = chunk_.size();
  chunks_.push_back(c);
  StagePiece piece;
  piece.hash = Sha256(chunk_);
  piece.subtype = "f32";
  piece.content = std::move(chunk_);
  chunk_.clear();
  pending_bytes_ += piece.content.size();
  pending_.push_back(std::move(piece));
  if (pending_bytes_ >= kStageBytes) return StagePending();
  return Status::Ok();
}

Status LayerValuesWriter::StagePending() {
  if (pending_.empty()) return Status::Ok();
  HT_ASSIGN_OR_RETURN(std::vector<StagedAtom> staged,
                      engine_.store_.Stage(&import_id_, batch_++, pending_));
  // The pending pieces are the last chunks.
  const size_t first = chunks_.size() - staged.size();
  for (size_t i = 0; i < staged.size(); ++i) chunks_[first + i].atom = staged[i];
  pending_.clear();
  pending_bytes_ = 0;
  return Status::Ok();
}

Result<LayerValuesReport> LayerValuesWriter::Finish() {
  if (!options_.clear && received_ != layer_.parameter_count()) {
    return Status::InvalidArgument("values: " + LayerText(layer_) + " has " +
                                   std::to_string(layer_.parameter_count()) + " parameters, got " +
                                   std::to_string(received_) + " values");
  }
  HT_RETURN_IF_ERROR(CutChunk());
  HT_RETURN_IF_ERROR(StagePending());
  const storage::Tables& tables = engine_.tables_;
  const storage::TensorAtomTable tensors(tables);
  const int64_t now = NowMicros();
  LayerValuesReport report;
  HT_RETURN_IF_ERROR(engine_.writer_.Write(
      [&](storage::WriteTxn& txn) -> Status {
        // Re-runnable (a retried group): every output is rebuilt.
        report = LayerValuesReport{};
        HT_ASSIGN_OR_RETURN(auto layer, engine_.table_.FindLayerById(txn, layer_.layer_id()));
        if (!layer) {
          return Status::NotFound("layer_id: layer " + std::to_string(layer_.layer_id()) +
                                  " was deleted meanwhile");
        }
        const uint64_t model_id = layer->model_id();
        const uint32_t idx = layer->layer_idx();
        std::vector<uint64_t> old;
        HT_RETURN_IF_ERROR(
            tensors.ScanLayer(txn, model_id, idx, options_.kind,
                              [&](const storage::TensorChunkKey&, storage::TensorAtomRecord&& row) {
                                old.push_back(row.atom_id());
                                return true;
                              }));
        HT_RETURN_IF_ERROR(tensors.RemoveLayer(txn, model_id, idx, options_.kind).status());
        storage::AtomTable atoms(tables);
        std::vector<uint64_t> released;
        for (uint64_t id : old) {
          HT_RETURN_IF_ERROR(TensorStore::ReleaseOne(txn, tables, atoms, id, now, &released));
        }
        for (size_t i = 0; i < chunks_.size(); ++i) {
          storage::TensorAtomRecord row;
          row.set_atom_id(chunks_[i].atom.atom_id);
          row.set_layer_id(layer->layer_id());
          row.set_byte_offset(chunks_[i].offset);
          row.set_byte_length(chunks_[i].length);
          row.set_dtype("F32");
          row.set_created_at_us(now);
          HT_RETURN_IF_ERROR(
              tensors.Put(txn, {model_id, idx, options_.kind, static_cast<uint32_t>(i)}, row));
        }
        HT_RETURN_IF_ERROR(atoms.FlushCounters(txn));
        // The staged references now belong to the rows above.
        if (import_id_ != 0) {
          HT_RETURN_IF_ERROR(storage::ImportStagingTable(tables).Remove(txn, import_id_).status());
        }
        HT_ASSIGN_OR_RETURN(PurgedAtoms purged, engine_.PurgeReleased(txn, released));
        report.layer = std::move(*layer);
        report.rows_replaced = old.size();
        report.atoms_purged = purged.atoms;
        return Status::Ok();
      },
      chunks_.size() * 64, /*items=*/0));
  committed_ = true;
  report.kind = options_.kind;
  report.values = options_.clear ? 0 : received_;
  report.chunks = chunks_.size();
  for (const Chunk& c : chunks_) {
    if (c.atom.created) report.new_bytes_stored += c.length;
  }
  return report;
}

}  // namespace hartonomous::engine
