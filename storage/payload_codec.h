// Payload codec: how an atom's content is encoded in the "atom_payload"
// rows. Content is either stored as is (kRaw) or as one zstd frame
// (kZstd) split into rows of at most kChunkBytes. The content hash is
// always the SHA-256 of the decoded (original) bytes.
//
// EncodePayload compresses only when it pays: content shorter than
// kMinCompressBytes is kept raw without trying, and so is content whose
// frame would not be at least kMinSavedBytes smaller than the raw bytes.
// DecodePayload never produces more than the content size the caller
// expects (the atom record's content_size): a frame that declares or
// decodes to another size is DATA_LOSS, and so is a corrupt frame.
//
// Thread-safety: thread-safe. Each thread keeps its own zstd contexts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hartonomous::storage {

// Values of AtomRecord.payload_codec (storage/records.proto). Absent = raw.
enum class PayloadCodec : uint32_t {
  kRaw = 0,
  kZstd = 1,
};

// zstd level for payloads: level 1 measured best for throughput at a
// compression ratio within a few percent of level 3 on text atoms
// (docs/benchmarks.md, "On-disk size").
inline constexpr int kZstdLevel = 1;
// Below this size compression is not attempted: a zstd frame costs at least
// 9 bytes of header and short sentences rarely shrink by more.
inline constexpr size_t kMinCompressBytes = 64;
// A frame is kept only when it saves at least this many bytes over raw.
inline constexpr size_t kMinSavedBytes = 8;

struct EncodedPayload {
  PayloadCodec codec = PayloadCodec::kRaw;
  // The zstd frame when codec == kZstd; empty for kRaw (the content itself
  // is stored).
  std::string frame;

  // Bytes stored for content of size content_size.
  uint64_t stored_size(uint64_t content_size) const {
    return codec == PayloadCodec::kRaw ? content_size : frame.size();
  }
};

// Chooses the encoding of content (see above). Never fails: any zstd error
// keeps the content raw.
EncodedPayload EncodePayload(std::string_view content);

// Decodes stored bytes of the given codec into *content, which ends up with
// exactly content_size bytes. DATA_LOSS for an unknown codec, a corrupt
// frame, or a frame whose content size is not content_size; *content is then
// unspecified. what names the atom in error messages.
Status DecodePayload(PayloadCodec codec, std::string_view stored, uint64_t content_size,
                     const std::string& what, std::string* content);

}  // namespace hartonomous::storage
