// ModelImport: one model file arriving as a byte stream (ImportModel),
// stored as a catalog model whose layers are the file's tensors and whose
// bytes are deduplicated content atoms.
//
// The stream is cut, as it arrives, at the offsets the file's layout gives
// (server/engine/models/formats/model_file.h): the header, padding and other
// framing bytes become one atom each, verbatim; each tensor's bytes are cut
// from its first byte into chunks of chunk_bytes (the last one shorter),
// one atom each, modality "tensor", so an unchanged tensor in another file
// (a fine-tune, a re-export, the same weights in a GGUF with other
// metadata) maps to the same atoms. ONNX values that the file holds in
// varint fields (not one contiguous range) are stored as their decoded
// little-endian bytes in the same way, in addition to the framing atoms
// that hold them in the file.
//
// Pieces are staged in batches (TensorStore::Stage: one write transaction
// per batch of about batch_bytes) on a second thread while the stream
// continues (one batch in flight: the pieces are hashed there; the file's
// SHA-256 is fed on the receiving thread as the bytes arrive), so memory is
// bounded by the header and two batches, never by the file.
//
// A file that repeats a stored one (a re-import, a fine-tune with the same
// header): when the first piece of a safetensors or GGUF file -- its
// header, which names every tensor, its dtype, shape and offsets -- is an
// atom already stored as the first piece of an imported file of the same
// format and chunk size, each piece is first compared byte for byte with
// the atom the stored file holds at the same place (stored raw: compared in
// place); an equal piece takes that atom's content hash (the SHA-256 of
// those same bytes) without being hashed again, any other is hashed. The
// atoms each piece ends up with are the same either way; only the CPU
// differs (a comparison instead of a SHA-256 pass). Finish commits
// the model, its layers, its "tensor_atoms" rows and its "model_files" row
// in one transaction; a failed or abandoned import (Abort, the destructor,
// or a crash before Finish) releases what it staged: nothing of it stays.
//
// ONNX external data: the model file's tensors may name external files
// (external_data location / offset / length). After the model file's bytes
// the caller streams each such file: StartExternalFile(location, size),
// then Add with its bytes. The model file is parsed when the first
// external file starts (or at Finish) and gives each file's tensor ranges;
// the file is then cut as it arrives, like the model file: each tensor's
// range into chunk atoms from its first byte (the same atoms as the same
// values embedded in raw_data or in a safetensors file), the bytes between
// and around them into framing atoms, all recorded (storage::
// ModelFileRecord, pieces with file = k) so that export rebuilds each file
// byte for byte. A path is never opened. Rules (INVALID_ARGUMENT naming
// "external_file", "external_file.location" or "external_file.size"): the
// model file's bytes first; only an ONNX model; a location that is not
// empty, not absolute, has no ".." component, no NUL, at most 255 bytes,
// is named by a tensor and is sent once; every location the tensors name
// is sent (checked at Finish); the declared size is the bytes that follow;
// every range ends within the file and no two ranges overlap.
//
// With ImportOptions::quantize, Finish also stores a quantized copy of the
// model under another name (QuantizedCopy, the work of QuantizeModel) in
// the same commit: both models or neither.
//
// Errors: INVALID_ARGUMENT naming the field and the rule (the format's
// parser names the file's part: "header: ...", "tensors[3]: ...",
// "file: N trailing bytes after the last tensor"); the catalog's rules as
// CreateModel (model.model_name taken: ALREADY_EXISTS).
//
// Thread-safety: an import belongs to one call, which uses it from one thread
// at a time (not always the same one: the work pool runs its steps).
#pragma once

#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "server/engine/models/formats/model_file.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/quantized_copy.h"
#include "server/engine/models/tensor_store.h"

namespace hartonomous::engine {

inline constexpr uint32_t kDefaultChunkBytes = 256 * 1024;
inline constexpr uint32_t kMinChunkBytes = 4 * 1024;
inline constexpr uint32_t kMaxChunkBytes = 16 * 1024 * 1024;

// ImportModelStart.quantize: a quantized copy stored with the import.
struct ImportQuantize {
  std::string name;  // the copy's model_name; empty = "<model_name>-<type>"
  QuantizeSpec spec;
};

struct ImportOptions {
  // The catalog fields of the new model (model_name required), as
  // CreateModel takes them.
  ModelView model;
  // nullopt: detected from the first bytes (models::DetectModelFormat).
  std::optional<models::ModelFormat> format;
  std::string file_name;                        // for detection and the report
  std::optional<uint64_t> file_size;            // checked at the end when given
  uint32_t chunk_bytes = kDefaultChunkBytes;    // REQUIRES: kMin..kMaxChunkBytes
  std::optional<Sha256Digest> expected_sha256;  // of the whole file
  // When set, the import also stores a quantized copy of the model, as
  // QuantizeModel would make it right after the import (see Finish).
  std::optional<ImportQuantize> quantize;
};

struct ImportLimits {
  // Largest ONNX file (ONNX is parsed whole, in memory). Default: 1 GiB.
  uint64_t max_onnx_bytes = uint64_t{1} << 30;
  // Pieces staged per write transaction, in bytes. Default: 8 MiB (two
  // batches are in memory at a time, with their encoded copies and the
  // write transaction's dirty pages).
  size_t batch_bytes = size_t{8} << 20;
};

// How much of a layer's chunks were stored before the import.
enum class LayerSharing { kEmpty, kNew, kPartlyShared, kShared };

struct LayerImport {
  uint32_t layer_idx = 0;
  std::string layer_name;
  uint64_t bytes = 0;
  uint64_t chunks = 0;
  uint64_t new_chunks = 0;  // created by this import
  uint64_t new_bytes = 0;
  LayerSharing sharing = LayerSharing::kEmpty;
};

struct ImportReport {
  ModelView model;
  std::string format;
  uint64_t bytes_received = 0;
  uint64_t new_bytes_stored = 0;  // content bytes of the atoms this import created
  uint64_t atoms = 0;             // pieces (header, padding, chunks)
  uint64_t new_atoms = 0;
  uint32_t chunk_bytes = 0;
  // Bytes of pieces found equal to the atom a stored file holds at the same
  // place (compared instead of hashed; see the file comment).
  uint64_t bytes_compared = 0;
  Sha256Digest file_sha256{};
  std::vector<LayerImport> layers;  // in layer_idx order
  // With ImportOptions::quantize: the quantized copy, as QuantizeModel
  // reports it.
  std::optional<ModelEngine::Quantized> quantized;
};

class ModelImport {
 public:
  // REQUIRES: the engine, store and writer outlive the import.
  ModelImport(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
              TensorStore& store, ImportOptions options, ImportLimits limits);
  ~ModelImport();  // Abort() unless finished
  ModelImport(const ModelImport&) = delete;
  ModelImport& operator=(const ModelImport&) = delete;

  // Checks the options and that the name (and the quantized copy's) is
  // free, before any byte is stored. REQUIRES: called first.
  Status Begin();
  // The next bytes of the file (after StartExternalFile: of that external
  // file), in order.
  Status Add(std::string_view bytes);
  // Ends the model file (or the external file before) and starts the
  // external data file `location` of `size` bytes (see the file comment).
  Status StartExternalFile(std::string_view location, uint64_t size);
  // The stream ended: commits the model (see the file comment). With
  // options.quantize, the staged layers are quantized first (QuantizedCopy)
  // and the copy is committed in the model's transaction: a quantization
  // that fails fails the import with InvalidArgument naming
  // "start.quantize..." (the layer and the rule, as QuantizeModel names
  // them) and nothing of either model stays.
  Result<ImportReport> Finish();
  // Releases what was staged. Idempotent; after Finish, nothing.
  void Abort();

  // Bytes of the model file and its external files received so far.
  uint64_t bytes_received() const { return received_ + external_bytes_; }

 private:
  // A piece of the file (or of decoded ONNX values) waiting to be staged or
  // staged already.
  struct Piece {
    models::SegmentKind kind = models::SegmentKind::kOther;
    int64_t tensor = -1;  // index of the tensor (layer_idx) for chunks
    uint32_t chunk_index = 0;
    uint64_t byte_offset = 0;  // within the tensor's values
    uint64_t length = 0;
    bool in_file = true;     // false: decoded ONNX values (not a file piece)
    uint32_t file = 0;       // 0: the model file; k: the k-th external file sent
    uint64_t predicted = 0;  // the stored file's atom at this place (0: none)
    StagedAtom atom;
  };

  Status ScanHeader(bool at_end);
  // Cuts data at segments_ (the model file's or the external file's).
  Status Consume(std::string_view data);
  // The model file's end: parses an ONNX file, checks size and SHA-256.
  Status EndModelFile();
  // The current external file's end: checks its size.
  Status EndExternalFile();
  // The bytes of tensor's range in its external file.
  uint64_t ExternalLength(size_t tensor) const;
  Status Emit(std::string content, Piece piece);
  // Starts storing the pending pieces (after the previous batch is done).
  Status StagePending();
  // Sets each piece's hash: the predicted atom's when the piece equals it
  // (predicted[i] != 0), its SHA-256 otherwise.
  // Returns the bytes that took a predicted atom's hash.
  Result<uint64_t> HashPieces(std::vector<StagePiece>* batch,
                              const std::vector<uint64_t>& predicted) const;
  // Waits for the batch being stored and records its atoms.
  Status WaitStaged();
  Status CutValues(size_t tensor, std::string_view values);
  // Looks for a stored file this one may repeat (see the file comment),
  // given the content of this file's first piece; fills prediction_.
  Status FindPrediction(std::string_view first_piece);
  // The atom the stored file holds where piece is (0: none).
  uint64_t Predict(const Piece& piece);
  std::string SubtypeOf(const Piece& piece) const;
  Status Commit();
  // The copy's name (options_.quantize's, or the default).
  std::string QuantizedName() const;

  storage::Env& env_;
  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
  TensorStore& store_;
  ImportOptions options_;
  const ImportLimits limits_;

  Sha256Stream file_hash_;
  uint64_t received_ = 0;
  std::optional<models::ModelFormat> format_;
  std::string prefix_;       // bytes held until the layout is known
  uint64_t need_bytes_ = 0;  // prefix the header scan asked for
  bool have_layout_ = false;
  models::ModelLayout layout_;
  std::vector<std::string> decoded_;  // ONNX varint values, per tensor ("" = in file)
  size_t segment_ = 0;                // the segment the next byte belongs to
  uint64_t position_ = 0;             // file offset of the next byte to cut
  std::string current_;               // bytes of the piece being cut
  uint32_t chunk_index_ = 0;          // of the next chunk of the current tensor
  std::string tail_;                  // bytes after the known segments
  // The segments Consume cuts at (layout_.segments, then the external
  // file's) and the file their pieces belong to.
  const std::vector<models::Segment>* segments_ = nullptr;
  uint32_t file_ = 0;
  bool model_ended_ = false;

  // ONNX external data files, in the order the tensors first name them.
  struct ExternalRange {
    uint64_t offset = 0;
    uint64_t length = 0;
    size_t tensor = 0;
    bool to_end = false;  // no length given: the file must end there
  };
  struct External {
    std::string location;
    std::vector<ExternalRange> ranges;  // every tensor naming it, length 0 too
    uint32_t file = 0;                  // k once sent as the k-th, else 0
    uint64_t size = 0;
    uint64_t received = 0;
    Sha256Digest sha256{};
  };
  std::vector<External> externals_;
  std::vector<int64_t> tensor_external_;  // per tensor: index in externals_ or -1
  int64_t current_external_ = -1;         // the external file being received
  std::vector<size_t> sent_;              // externals_ indexes in the order sent
  std::vector<models::Segment> external_segments_;
  std::unique_ptr<Sha256Stream> external_hash_;
  uint64_t external_bytes_ = 0;

  // The stored file this one may repeat: the atom of its k-th non-tensor
  // piece, and of chunk c of its layer i.
  struct Prediction {
    std::vector<uint64_t> framing;
    std::vector<std::vector<uint64_t>> chunks;
  };
  bool predicted_ = false;  // FindPrediction ran
  std::optional<Prediction> prediction_;
  size_t framing_seen_ = 0;  // non-tensor in-file pieces emitted so far

  std::vector<Piece> pieces_;          // every piece, in order
  std::vector<StagePiece> pending_;    // contents not staged yet
  std::vector<size_t> pending_index_;  // their index in pieces_
  size_t pending_bytes_ = 0;
  // The batch being hashed and stored (on another thread) and the index in
  // pieces_ of each of its pieces.
  std::future<Result<std::vector<StagedAtom>>> staging_;
  std::vector<size_t> staging_index_;
  uint64_t import_id_ = 0;       // written by the staging thread, read after it
  uint64_t bytes_compared_ = 0;  // likewise
  uint32_t batch_ = 0;
  std::unique_ptr<QuantizedCopy> copy_;  // with options_.quantize, in Finish
  bool finished_ = false;
  bool failed_ = false;
  ImportReport report_;
};

const char* LayerSharingName(LayerSharing sharing);

}  // namespace hartonomous::engine
