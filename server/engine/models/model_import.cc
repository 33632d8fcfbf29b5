#include "server/engine/models/model_import.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/clock.h"
#include "storage/records.pb.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/import_staging_table.h"
#include "storage/tables/model_table.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {

using models::ModelFormat;
using models::SegmentKind;
using storage::ModelLayerRecord;

const char* LayerSharingName(LayerSharing sharing) {
  switch (sharing) {
    case LayerSharing::kEmpty:
      return "empty";
    case LayerSharing::kNew:
      return "new";
    case LayerSharing::kPartlyShared:
      return "partly shared";
    case LayerSharing::kShared:
      return "shared";
  }
  return "empty";
}

namespace {

// ImportExternalFile.location: a name relative to the model file's
// directory, never a path that could leave it (nothing is opened by it).
Status CheckExternalLocation(std::string_view location) {
  const auto bad = [&](const std::string& rule) {
    return Status::InvalidArgument("external_file.location: " + rule);
  };
  if (location.empty()) return bad("empty");
  if (location.size() > 255) {
    return bad(std::to_string(location.size()) + " bytes, at most 255");
  }
  if (location.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  if (location.front() == '/' || location.front() == '\\' ||
      (location.size() >= 2 && location[1] == ':')) {
    return bad("\"" + std::string(location) +
               "\" is absolute (it must be relative to the model file)");
  }
  size_t begin = 0;
  while (begin <= location.size()) {
    size_t end = location.find_first_of("/\\", begin);
    if (end == std::string_view::npos) end = location.size();
    if (location.substr(begin, end - begin) == "..") {
      return bad("\"" + std::string(location) + "\" has a \"..\" component");
    }
    begin = end + 1;
  }
  return Status::Ok();
}

}  // namespace

ModelImport::ModelImport(storage::Env& env, const storage::Tables& tables,
                         storage::WriteBatcher& writer, TensorStore& store, ImportOptions options,
                         ImportLimits limits)
    : env_(env),
      tables_(tables),
      writer_(writer),
      store_(store),
      options_(std::move(options)),
      limits_(limits),
      format_(options_.format) {}

ModelImport::~ModelImport() { Abort(); }

Status ModelImport::Begin() {
  if (options_.chunk_bytes < kMinChunkBytes || options_.chunk_bytes > kMaxChunkBytes) {
    return Status::InvalidArgument("start.chunk_bytes: must be " + std::to_string(kMinChunkBytes) +
                                   ".." + std::to_string(kMaxChunkBytes) + ", got " +
                                   std::to_string(options_.chunk_bytes));
  }
  HT_RETURN_IF_ERROR(CheckModel(options_.model));
  // A taken name fails now rather than after the whole file was sent (the
  // commit checks again).
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(auto taken,
                      storage::ModelTable(tables_).FindId(txn, options_.model.model.model_name()));
  if (taken) {
    return Status::AlreadyExists("model.model_name: a model named '" +
                                 options_.model.model.model_name() + "' already exists");
  }
  if (!options_.quantize) return Status::Ok();
  const std::string name = QuantizedName();
  ModelView copy = options_.model;
  copy.model.set_model_name(name);
  if (Status valid = CheckModel(copy); !valid.ok()) {
    std::string rule = valid.message();
    const std::string prefix = "model.model_name: ";
    if (rule.rfind(prefix, 0) != 0) return valid;
    return Status::InvalidArgument("start.quantize.name: " + rule.substr(prefix.size()));
  }
  if (name == options_.model.model.model_name()) {
    return Status::InvalidArgument(
        "start.quantize.name: the quantized copy needs a name other than model.model_name ('" +
        name + "')");
  }
  HT_ASSIGN_OR_RETURN(auto copy_taken, storage::ModelTable(tables_).FindId(txn, name));
  if (copy_taken) {
    return Status::AlreadyExists("start.quantize.name: a model named '" + name +
                                 "' already exists");
  }
  return Status::Ok();
}

std::string ModelImport::QuantizedName() const {
  if (!options_.quantize->name.empty()) return options_.quantize->name;
  return options_.model.model.model_name() + "-" +
         models::QuantTypeName(options_.quantize->spec.type);
}

Status ModelImport::Add(std::string_view bytes) {
  if (finished_ || failed_) return Status::FailedPrecondition("import: already ended");
  if (model_ended_) {
    // The bytes of the current external file: never more than its size.
    External& ext = externals_[static_cast<size_t>(current_external_)];
    if (bytes.size() > ext.size - ext.received) {
      failed_ = true;
      return Status::InvalidArgument("external_file.size: \"" + ext.location + "\" is " +
                                     std::to_string(ext.size) +
                                     " bytes, but the stream carried more");
    }
    ext.received += bytes.size();
    external_bytes_ += bytes.size();
    external_hash_->Update(bytes);
    Status status = Consume(bytes);
    if (!status.ok()) failed_ = true;
    return status;
  }
  received_ += bytes.size();
  // Every byte of the file arrives here, in order: the file's hash is fed
  // while the bytes are in cache.
  file_hash_.Update(bytes);
  Status status;
  if (!have_layout_) {
    prefix_.append(bytes);
    status = ScanHeader(/*at_end=*/false);
  } else {
    status = Consume(bytes);
  }
  if (!status.ok()) failed_ = true;
  return status;
}

Status ModelImport::ScanHeader(bool at_end) {
  if (!format_) {
    if (prefix_.size() < models::kModelDetectBytes && !at_end) return Status::Ok();
    format_ = models::DetectModelFormat(prefix_, options_.file_name);
    if (!format_) {
      return Status::InvalidArgument(
          "file: not a safetensors, GGUF or ONNX file (by its first bytes or the file name's "
          "extension)");
    }
  }
  if (*format_ == ModelFormat::kOnnx) {
    // ONNX is one protobuf message: it is parsed whole, at the end.
    if (prefix_.size() > limits_.max_onnx_bytes) {
      return Status::ResourceExhausted("file: an ONNX file is parsed in memory, at most " +
                                       std::to_string(limits_.max_onnx_bytes) + " bytes");
    }
    if (!at_end) return Status::Ok();
    models::OnnxOptions options;
    options.max_file_bytes = limits_.max_onnx_bytes;
    options.defer_external = true;  // streamed after the model file
    HT_ASSIGN_OR_RETURN(models::OnnxModel model, models::ParseOnnx(prefix_, options));
    layout_ = std::move(model.layout);
    decoded_.clear();
    tensor_external_.assign(model.details.size(), -1);
    for (size_t i = 0; i < model.details.size(); ++i) {
      models::OnnxTensor& detail = model.details[i];
      decoded_.push_back(std::move(detail.decoded));
      if (detail.external_location.empty()) continue;
      auto it = std::find_if(externals_.begin(), externals_.end(), [&](const External& e) {
        return e.location == detail.external_location;
      });
      if (it == externals_.end()) {
        externals_.emplace_back();
        externals_.back().location = detail.external_location;
        it = externals_.end() - 1;
      }
      it->ranges.push_back(
          {detail.external_offset, detail.external_length, i, !detail.external_length_given});
      tensor_external_[i] = it - externals_.begin();
    }
  } else {
    if (prefix_.size() < need_bytes_ && !at_end) return Status::Ok();
    HT_ASSIGN_OR_RETURN(models::LayoutScan scan,
                        models::ScanModelFile(*format_, prefix_, std::nullopt));
    if (!scan.complete()) {
      if (at_end) {
        return Status::InvalidArgument("file: truncated: the header needs at least " +
                                       std::to_string(scan.need_bytes) + " bytes, the file has " +
                                       std::to_string(prefix_.size()));
      }
      need_bytes_ = scan.need_bytes;
      return Status::Ok();
    }
    layout_ = std::move(scan.layout);
    decoded_.assign(layout_.tensors.size(), std::string());
  }
  have_layout_ = true;
  segments_ = &layout_.segments;
  std::string held = std::move(prefix_);
  prefix_.clear();
  prefix_.shrink_to_fit();
  return Consume(held);
}

std::string ModelImport::SubtypeOf(const Piece& piece) const {
  const std::string format = format_ ? models::ModelFormatName(*format_) : "model";
  switch (piece.kind) {
    case SegmentKind::kHeader:
      return format + "-header";
    case SegmentKind::kPadding:
      return "padding";
    case SegmentKind::kOther:
      return format + "-framing";
    case SegmentKind::kTensor: {
      std::string dtype = layout_.tensors[static_cast<size_t>(piece.tensor)].dtype;
      std::transform(dtype.begin(), dtype.end(), dtype.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return dtype;
    }
  }
  return format;
}

Status ModelImport::FindPrediction(std::string_view first_piece) {
  predicted_ = true;
  if (*format_ != ModelFormat::kSafetensors && *format_ != ModelFormat::kGguf) {
    return Status::Ok();
  }
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(auto header,
                      storage::AtomTable(tables_).FindByHash(txn, Sha256(first_piece)));
  if (!header) return Status::Ok();  // a new header: a new file
  // The latest imported file that starts with this header.
  const storage::TensorAtomTable tensors(tables_);
  const std::string format = models::ModelFormatName(*format_);
  uint64_t model_id = 0;
  storage::ModelFileRecord file;
  HT_RETURN_IF_ERROR(
      tensors.files().ScanAfter(txn, 0, [&](uint64_t id, storage::ModelFileRecord&& record) {
        if (record.source_model_id() == 0 && record.format() == format &&
            record.chunk_bytes() == options_.chunk_bytes && record.pieces_size() > 0 &&
            record.pieces(0).kind() != static_cast<uint32_t>(SegmentKind::kTensor) &&
            record.pieces(0).atom_id() == *header) {
          model_id = id;
          file = std::move(record);
        }
        return true;
      }));
  if (model_id == 0) return Status::Ok();
  Prediction prediction;
  for (const auto& piece : file.pieces()) {
    if (piece.kind() != static_cast<uint32_t>(SegmentKind::kTensor)) {
      prediction.framing.push_back(piece.atom_id());
    }
  }
  prediction.chunks.resize(layout_.tensors.size());
  HT_RETURN_IF_ERROR(tensors.ScanModel(
      txn, model_id, [&](const storage::TensorChunkKey& key, storage::TensorAtomRecord&& row) {
        if (key.kind != storage::TensorKind::kWeights ||
            key.layer_idx >= prediction.chunks.size()) {
          return true;
        }
        auto& chunks = prediction.chunks[key.layer_idx];
        if (chunks.size() <= key.chunk_index) chunks.resize(size_t{key.chunk_index} + 1, 0);
        chunks[key.chunk_index] = row.atom_id();
        return true;
      }));
  prediction_ = std::move(prediction);
  return Status::Ok();
}

uint64_t ModelImport::Predict(const Piece& piece) {
  if (!piece.in_file) return 0;
  if (piece.kind != SegmentKind::kTensor) {
    const size_t k = framing_seen_++;
    if (!prediction_ || k >= prediction_->framing.size()) return 0;
    return prediction_->framing[k];
  }
  if (!prediction_) return 0;
  const auto& chunks = prediction_->chunks[static_cast<size_t>(piece.tensor)];
  return piece.chunk_index < chunks.size() ? chunks[piece.chunk_index] : 0;
}

Status ModelImport::Emit(std::string content, Piece piece) {
  piece.length = content.size();
  if (piece.in_file) {
    if (!predicted_) HT_RETURN_IF_ERROR(FindPrediction(content));
    piece.predicted = Predict(piece);
  }
  StagePiece staged;  // hashed by StagePending
  staged.subtype = SubtypeOf(piece);
  staged.content = std::move(content);
  pending_bytes_ += staged.content.size();
  pending_.push_back(std::move(staged));
  pending_index_.push_back(pieces_.size());
  pieces_.push_back(piece);
  if (pending_bytes_ >= limits_.batch_bytes) return StagePending();
  return Status::Ok();
}

Status ModelImport::StagePending() {
  HT_RETURN_IF_ERROR(WaitStaged());
  if (pending_.empty()) return Status::Ok();
  // The batch is hashed and stored on another thread while this one goes
  // on receiving and cutting the next batch; one batch at a time, in order.
  auto batch = std::make_shared<std::vector<StagePiece>>(std::move(pending_));
  std::vector<uint64_t> predicted;
  for (size_t index : pending_index_) predicted.push_back(pieces_[index].predicted);
  staging_index_ = std::move(pending_index_);
  pending_.clear();
  pending_index_.clear();
  pending_bytes_ = 0;
  const uint32_t number = batch_++;
  staging_ = std::async(
      std::launch::async,
      [this, batch, predicted = std::move(predicted), number]() -> Result<std::vector<StagedAtom>> {
        HT_ASSIGN_OR_RETURN(const uint64_t compared, HashPieces(batch.get(), predicted));
        bytes_compared_ += compared;
        return store_.Stage(&import_id_, number, *batch);
      });
  return Status::Ok();
}

Result<uint64_t> ModelImport::HashPieces(std::vector<StagePiece>* batch,
                                         const std::vector<uint64_t>& predicted) const {
  uint64_t compared = 0;
  std::optional<storage::ReadTxn> txn;
  const storage::AtomTable atoms(tables_);
  for (size_t i = 0; i < batch->size(); ++i) {
    StagePiece& piece = (*batch)[i];
    if (predicted[i] != 0) {
      if (!txn) {
        txn.emplace(env_);
        HT_RETURN_IF_ERROR(txn->status());
      }
      // The stored file's atom at this place: equal bytes have its hash.
      HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(*txn, predicted[i]));
      if (atom && atom->content_hash().size() == piece.hash.size()) {
        HT_ASSIGN_OR_RETURN(std::optional<bool> equal,
                            atoms.RawContentEquals(*txn, *atom, piece.content));
        if (equal && *equal) {
          std::copy(atom->content_hash().begin(), atom->content_hash().end(), piece.hash.begin());
          compared += piece.content.size();
          continue;
        }
      }
    }
    piece.hash = Sha256(piece.content);
  }
  return compared;
}

Status ModelImport::WaitStaged() {
  if (!staging_.valid()) return Status::Ok();
  Result<std::vector<StagedAtom>> staged = staging_.get();
  if (!staged.ok()) return staged.status();
  for (size_t i = 0; i < staged->size(); ++i) pieces_[staging_index_[i]].atom = (*staged)[i];
  staging_index_.clear();
  return Status::Ok();
}

Status ModelImport::Consume(std::string_view data) {
  const uint64_t chunk = options_.chunk_bytes;
  const std::vector<models::Segment>& segments = *segments_;
  while (!data.empty()) {
    if (segment_ >= segments.size()) {
      if (file_ != 0) return Status::Internal("import: external file bytes past its segments");
      // Past the last tensor: only padding may follow (GGUF), closed by
      // Finish.
      tail_.append(data);
      if (tail_.size() > layout_.max_trailing_padding) {
        return Status::InvalidArgument("file: " + std::to_string(tail_.size()) +
                                       " trailing bytes after the last tensor (at most " +
                                       std::to_string(layout_.max_trailing_padding) +
                                       " bytes of padding may follow)");
      }
      return Status::Ok();
    }
    const models::Segment& seg = segments[segment_];
    const uint64_t end = seg.offset + seg.length;
    uint64_t take = std::min<uint64_t>(end - position_, data.size());
    const bool tensor = seg.kind == SegmentKind::kTensor;
    if (tensor) take = std::min<uint64_t>(take, chunk - current_.size());
    current_.append(data.substr(0, take));
    position_ += take;
    data.remove_prefix(take);
    if (tensor && (current_.size() == chunk || position_ == end)) {
      Piece piece;
      piece.kind = SegmentKind::kTensor;
      piece.tensor = seg.tensor;
      piece.chunk_index = chunk_index_++;
      piece.byte_offset = position_ - seg.offset - current_.size();
      piece.file = file_;
      HT_RETURN_IF_ERROR(Emit(std::move(current_), piece));
      current_.clear();
    } else if (!tensor && position_ == end) {
      Piece piece;
      piece.kind = seg.kind;
      piece.file = file_;
      HT_RETURN_IF_ERROR(Emit(std::move(current_), piece));
      current_.clear();
    }
    if (position_ == end) {
      ++segment_;
      chunk_index_ = 0;
    }
  }
  return Status::Ok();
}

Status ModelImport::CutValues(size_t tensor, std::string_view values) {
  const uint64_t chunk = options_.chunk_bytes;
  uint32_t index = 0;
  for (uint64_t offset = 0; offset < values.size(); offset += chunk) {
    Piece piece;
    piece.kind = SegmentKind::kTensor;
    piece.tensor = static_cast<int64_t>(tensor);
    piece.chunk_index = index++;
    piece.byte_offset = offset;
    piece.in_file = false;
    HT_RETURN_IF_ERROR(Emit(std::string(values.substr(offset, chunk)), piece));
  }
  return Status::Ok();
}

Status ModelImport::EndModelFile() {
  model_ended_ = true;
  if (!have_layout_) HT_RETURN_IF_ERROR(ScanHeader(/*at_end=*/true));
  if (!have_layout_) return Status::InvalidArgument("file: empty");
  if (segment_ < layout_.segments.size()) {
    return Status::InvalidArgument("file: truncated: the stream ended at byte " +
                                   std::to_string(received_) + ", the file's layout needs " +
                                   std::to_string(layout_.file_size) + " bytes");
  }
  HT_RETURN_IF_ERROR(models::FinishLayout(&layout_, received_));
  if (!tail_.empty()) {
    Piece piece;
    piece.kind = SegmentKind::kPadding;
    HT_RETURN_IF_ERROR(Emit(std::move(tail_), piece));
    tail_.clear();
  }
  if (options_.file_size && *options_.file_size != received_) {
    return Status::InvalidArgument("start.file_size: " + std::to_string(*options_.file_size) +
                                   " but the stream carried " + std::to_string(received_) +
                                   " bytes");
  }
  report_.file_sha256 = file_hash_.Finish();
  if (options_.expected_sha256 && *options_.expected_sha256 != report_.file_sha256) {
    return Status::InvalidArgument("start.sha256: the file's SHA-256 is " +
                                   ToHex(report_.file_sha256) + ", not " +
                                   ToHex(*options_.expected_sha256));
  }
  return Status::Ok();
}

Status ModelImport::EndExternalFile() {
  if (current_external_ < 0) return Status::Ok();
  External& ext = externals_[static_cast<size_t>(current_external_)];
  current_external_ = -1;
  if (ext.received != ext.size) {
    return Status::InvalidArgument("external_file.size: \"" + ext.location + "\" is " +
                                   std::to_string(ext.size) + " bytes, but the stream carried " +
                                   std::to_string(ext.received));
  }
  if (segment_ != external_segments_.size()) {
    return Status::Internal("import: external file ended inside a segment");
  }
  ext.sha256 = external_hash_->Finish();
  external_hash_.reset();
  return Status::Ok();
}

uint64_t ModelImport::ExternalLength(size_t tensor) const {
  const External& ext = externals_[static_cast<size_t>(tensor_external_[tensor])];
  for (const ExternalRange& r : ext.ranges) {
    if (r.tensor == tensor) return r.length;
  }
  return 0;
}

Status ModelImport::StartExternalFile(std::string_view location, uint64_t size) {
  if (finished_ || failed_) return Status::FailedPrecondition("import: already ended");
  Status status = [&]() -> Status {
    if (received_ == 0) {
      return Status::InvalidArgument(
          "external_file: the model file's bytes come first (external files follow it)");
    }
    if (format_ && *format_ != ModelFormat::kOnnx) {
      return Status::InvalidArgument(std::string("external_file: only an ONNX model has external "
                                                 "data files, this file is ") +
                                     models::ModelFormatName(*format_));
    }
    HT_RETURN_IF_ERROR(CheckExternalLocation(location));
    if (!model_ended_) {
      HT_RETURN_IF_ERROR(EndModelFile());
      if (*format_ != ModelFormat::kOnnx) {
        return Status::InvalidArgument(std::string("external_file: only an ONNX model has "
                                                   "external data files, this file is ") +
                                       models::ModelFormatName(*format_));
      }
    } else {
      HT_RETURN_IF_ERROR(EndExternalFile());
    }
    const std::string quoted = "\"" + std::string(location) + "\"";
    auto it = std::find_if(externals_.begin(), externals_.end(),
                           [&](const External& e) { return e.location == location; });
    if (it == externals_.end()) {
      return Status::InvalidArgument("external_file.location: " + quoted +
                                     " is named by no tensor of the model");
    }
    External& ext = *it;
    if (ext.file != 0) {
      return Status::InvalidArgument("external_file.location: " + quoted + " was sent already");
    }
    // The tensors' ranges: within the file, not overlapping.
    std::vector<ExternalRange> ranges = ext.ranges;
    for (const ExternalRange& r : ranges) {
      const std::string& name = layout_.tensors[r.tensor].name;
      if (r.offset > size || r.length > size - r.offset) {
        return Status::InvalidArgument("external_file.size: " + quoted + " is " +
                                       std::to_string(size) + " bytes, but tensor \"" + name +
                                       "\" takes bytes [" + std::to_string(r.offset) + ", " +
                                       std::to_string(r.offset + r.length) + ") of it");
      }
      if (r.to_end && r.offset + r.length != size) {
        return Status::InvalidArgument(
            "external_file.size: " + quoted + " is " + std::to_string(size) +
            " bytes, but tensor \"" + name + "\" (no length: to the end of the file) takes " +
            std::to_string(r.length) + " bytes from offset " + std::to_string(r.offset));
      }
    }
    ranges.erase(std::remove_if(ranges.begin(), ranges.end(),
                                [](const ExternalRange& r) { return r.length == 0; }),
                 ranges.end());
    std::sort(ranges.begin(), ranges.end(),
              [](const ExternalRange& a, const ExternalRange& b) { return a.offset < b.offset; });
    external_segments_.clear();
    uint64_t at = 0;
    for (size_t i = 0; i < ranges.size(); ++i) {
      const ExternalRange& r = ranges[i];
      if (r.offset < at) {
        const ExternalRange& before = ranges[i - 1];
        return Status::InvalidArgument(
            "external_file.location: " + quoted + ": the ranges of tensors \"" +
            layout_.tensors[before.tensor].name + "\" [" + std::to_string(before.offset) + ", " +
            std::to_string(before.offset + before.length) + ") and \"" +
            layout_.tensors[r.tensor].name + "\" [" + std::to_string(r.offset) + ", " +
            std::to_string(r.offset + r.length) + ") overlap");
      }
      models::AppendGap(&external_segments_, at, r.offset, SegmentKind::kOther);
      external_segments_.push_back(models::Segment{SegmentKind::kTensor, r.offset, r.length,
                                                   static_cast<int64_t>(r.tensor)});
      at = r.offset + r.length;
    }
    models::AppendGap(&external_segments_, at, size, SegmentKind::kOther);
    sent_.push_back(static_cast<size_t>(it - externals_.begin()));
    ext.file = static_cast<uint32_t>(sent_.size());
    ext.size = size;
    ext.received = 0;
    current_external_ = it - externals_.begin();
    external_hash_ = std::make_unique<Sha256Stream>();
    segments_ = &external_segments_;
    file_ = ext.file;
    segment_ = 0;
    position_ = 0;
    current_.clear();
    chunk_index_ = 0;
    return Status::Ok();
  }();
  if (!status.ok()) failed_ = true;
  return status;
}

Result<ImportReport> ModelImport::Finish() {
  if (finished_ || failed_) return Status::FailedPrecondition("import: already ended");
  Status status = [&]() -> Status {
    if (!model_ended_) {
      HT_RETURN_IF_ERROR(EndModelFile());
    } else {
      HT_RETURN_IF_ERROR(EndExternalFile());
    }
    for (const External& ext : externals_) {
      if (ext.file != 0) continue;
      return Status::InvalidArgument("external_file.location: \"" + ext.location +
                                     "\", named by tensor \"" +
                                     layout_.tensors[ext.ranges.front().tensor].name +
                                     "\", was not sent (every external file the model names "
                                     "follows the model file in the stream)");
    }
    // Every byte of the files is staged (and hashed) once this batch is.
    HT_RETURN_IF_ERROR(StagePending());
    HT_RETURN_IF_ERROR(WaitStaged());
    for (size_t i = 0; i < decoded_.size(); ++i) {
      if (!decoded_[i].empty()) HT_RETURN_IF_ERROR(CutValues(i, decoded_[i]));
    }
    decoded_.clear();
    HT_RETURN_IF_ERROR(StagePending());
    HT_RETURN_IF_ERROR(WaitStaged());
    return Commit();
  }();
  if (!status.ok()) {
    failed_ = true;
    return status;
  }
  finished_ = true;
  return std::move(report_);
}

Status ModelImport::Commit() {
  const int64_t now = NowMicros();
  ImportReport& report = report_;
  report.format = models::ModelFormatName(*format_);
  report.bytes_received = received_ + external_bytes_;
  report.chunk_bytes = options_.chunk_bytes;
  report.bytes_compared = bytes_compared_;
  std::vector<ModelLayerRecord> layers(layout_.tensors.size());
  report.layers.resize(layout_.tensors.size());
  for (size_t i = 0; i < layout_.tensors.size(); ++i) {
    const models::TensorInfo& t = layout_.tensors[i];
    ModelLayerRecord& layer = layers[i];
    layer.set_layer_idx(static_cast<uint32_t>(i));
    layer.set_layer_name(t.name);
    for (uint64_t dim : t.shape) layer.add_tensor_shape(dim);
    layer.set_tensor_dtype(t.dtype);
    layer.set_parameter_count(t.parameter_count);
    nlohmann::json parameters = {
        {"file_offset", t.offset}, {"byte_length", t.length}, {"in_file", t.in_file}};
    if (i < tensor_external_.size() && tensor_external_[i] >= 0) {
      // The tensor's range in its external file.
      const External& ext = externals_[static_cast<size_t>(tensor_external_[i])];
      for (const ExternalRange& r : ext.ranges) {
        if (r.tensor != i) continue;
        parameters = {{"file_offset", r.offset},
                      {"byte_length", r.length},
                      {"in_file", false},
                      {"external_location", ext.location}};
      }
    }
    if (*format_ == ModelFormat::kGguf) parameters["shape_order"] = "innermost first";
    layer.set_parameters_json(parameters.dump());
    report.layers[i].layer_idx = static_cast<uint32_t>(i);
    report.layers[i].layer_name = t.name;
  }
  for (const Piece& piece : pieces_) {
    ++report.atoms;
    if (piece.atom.created) {
      ++report.new_atoms;
      report.new_bytes_stored += piece.length;
    }
    if (piece.kind != SegmentKind::kTensor) continue;
    LayerImport& l = report.layers[static_cast<size_t>(piece.tensor)];
    l.bytes += piece.length;
    ++l.chunks;
    if (piece.atom.created) {
      ++l.new_chunks;
      l.new_bytes += piece.length;
    }
  }
  for (LayerImport& l : report.layers) {
    l.sharing = l.chunks == 0              ? LayerSharing::kEmpty
                : l.new_chunks == l.chunks ? LayerSharing::kNew
                : l.new_chunks == 0        ? LayerSharing::kShared
                                           : LayerSharing::kPartlyShared;
  }

  ModelView view = options_.model;
  HT_ASSIGN_OR_RETURN(size_t bytes, PrepareNewModel(&view, &layers, now));

  // The quantized copy: its values quantized from the staged atoms and
  // staged in turn before the commit, so that a quantization that fails
  // leaves nothing (the stagings are released by Abort).
  std::vector<SourceLayer> source;
  ModelView copy_view;
  std::vector<ModelLayerRecord> copy_records;
  if (options_.quantize) {
    source.resize(layers.size());
    for (size_t i = 0; i < layers.size(); ++i) source[i].layer = layers[i];
    for (const Piece& piece : pieces_) {
      if (piece.kind != SegmentKind::kTensor) continue;
      source[static_cast<size_t>(piece.tensor)].chunks.emplace_back(piece.atom.atom_id,
                                                                    piece.length);
    }
    copy_ = std::make_unique<QuantizedCopy>(env_, tables_, store_);
    Status prepared = copy_->Prepare(source, options_.quantize->spec, "the file");
    if (!prepared.ok()) {
      if (prepared.code() == Status::Code::kInternal ||
          prepared.code() == Status::Code::kDataLoss) {
        return prepared;
      }
      // A rule of the request: the file's values cannot be quantized so.
      if (prepared.code() == Status::Code::kFailedPrecondition) {
        return Status::InvalidArgument("start.quantize.type: " + prepared.message());
      }
      const std::string& why = prepared.message();
      return Status::InvalidArgument(
          (why.rfind("layers", 0) == 0 ? "start.quantize." : "start.quantize: ") + why);
    }
    copy_view = view;
    copy_view.model.set_model_name(QuantizedName());
    copy_view.model.set_parameter_count(0);
    copy_records = copy_->records();
    HT_ASSIGN_OR_RETURN(size_t copy_bytes, PrepareNewModel(&copy_view, &copy_records, now));
    bytes += copy_bytes + copy_->pieces() * 64;
  }

  const storage::ModelTable models(tables_);
  const storage::TensorAtomTable tensors(tables_);
  ModelView stored;
  std::optional<ModelEngine::Quantized> quantized;
  HT_RETURN_IF_ERROR(writer_.Write(
      [&](storage::WriteTxn& txn) -> Status {
        // Re-runnable (a retried group): every output is rebuilt.
        stored = view;
        std::vector<ModelLayerRecord> written = layers;
        HT_RETURN_IF_ERROR(InsertNewModel(txn, models, &stored, &written));
        const uint64_t model_id = stored.model.model_id();
        storage::ModelFileRecord file;
        file.set_format(report.format);
        file.set_file_size(received_);
        file.set_file_sha256(std::string(reinterpret_cast<const char*>(report.file_sha256.data()),
                                         report.file_sha256.size()));
        file.set_chunk_bytes(options_.chunk_bytes);
        file.set_file_name(options_.file_name);
        for (size_t k : sent_) {
          auto* ext = file.add_external_files();
          ext->set_location(externals_[k].location);
          ext->set_file_size(externals_[k].size);
          ext->set_file_sha256(
              std::string(reinterpret_cast<const char*>(externals_[k].sha256.data()),
                          externals_[k].sha256.size()));
        }
        for (const Piece& piece : pieces_) {
          if (piece.kind != SegmentKind::kTensor) {
            auto* p = file.add_pieces();
            p->set_kind(static_cast<uint32_t>(piece.kind));
            p->set_length(piece.length);
            p->set_atom_id(piece.atom.atom_id);
            p->set_file(piece.file);
            continue;
          }
          const auto idx = static_cast<size_t>(piece.tensor);
          if (piece.in_file && piece.chunk_index == 0) {
            auto* p = file.add_pieces();
            p->set_kind(static_cast<uint32_t>(SegmentKind::kTensor));
            p->set_length(piece.file == 0 ? layout_.tensors[idx].length : ExternalLength(idx));
            p->set_layer_idx(static_cast<uint32_t>(idx));
            p->set_file(piece.file);
          }
          storage::TensorAtomRecord row;
          row.set_atom_id(piece.atom.atom_id);
          row.set_layer_id(written[idx].layer_id());
          row.set_byte_offset(piece.byte_offset);
          row.set_byte_length(piece.length);
          row.set_dtype(layout_.tensors[idx].dtype);
          row.set_created_at_us(now);
          HT_RETURN_IF_ERROR(tensors.Put(txn,
                                         {model_id, static_cast<uint32_t>(idx),
                                          storage::TensorKind::kWeights, piece.chunk_index},
                                         row));
        }
        HT_RETURN_IF_ERROR(tensors.files().Put(txn, model_id, file));
        // The staged references now belong to the rows above.
        HT_RETURN_IF_ERROR(storage::ImportStagingTable(tables_).Remove(txn, import_id_).status());
        quantized.reset();
        if (!copy_) return Status::Ok();
        // The copy, after the rows it shares with the model.
        for (size_t i = 0; i < source.size(); ++i) source[i].layer = written[i];
        quantized.emplace();
        quantized->model = copy_view;
        std::vector<ModelLayerRecord> copy_written = copy_records;
        if (Status inserted = InsertNewModel(txn, models, &quantized->model, &copy_written);
            !inserted.ok()) {
          // Taken since Begin: the request's field is start.quantize.name.
          if (inserted.code() != Status::Code::kAlreadyExists) return inserted;
          return Status::AlreadyExists("start.quantize.name: a model named '" +
                                       quantized->model.model.model_name() + "' already exists");
        }
        HT_ASSIGN_OR_RETURN(quantized->bytes_shared,
                            copy_->Insert(txn, model_id, quantized->model.model.model_id(), source,
                                          copy_written, now));
        return Status::Ok();
      },
      bytes + pieces_.size() * 64, /*items=*/0));
  report.model = std::move(stored);
  if (copy_) {
    copy_->Committed();
    quantized->layers = copy_->layers();
    quantized->new_bytes_stored = copy_->new_bytes_stored();
    report.quantized = std::move(quantized);
  }
  return Status::Ok();
}

void ModelImport::Abort() {
  if (finished_) return;
  failed_ = true;
  // A batch being stored adds to the staging rows (and may assign the
  // import id): wait for it, whatever its outcome.
  if (staging_.valid()) {
    const Result<std::vector<StagedAtom>> outcome = staging_.get();
    (void)outcome;  // released below either way (Abandon reads the staging rows)
  }
  pending_.clear();
  pending_index_.clear();
  copy_.reset();  // releases what the quantized copy staged
  if (import_id_ == 0) return;
  auto abandoned = store_.Abandon(import_id_);
  if (!abandoned.ok()) {
    // The staging rows stay; the next start abandons them.
    spdlog::warn("model import {}: releasing its staged atoms failed: {}", import_id_,
                 abandoned.status().ToString());
  }
  import_id_ = 0;
}

}  // namespace hartonomous::engine
