// Payload codec: how an atom's content is encoded. Content is stored as is
// (kRaw) or as one zstd frame (kZstd), inline in the atom record or split
// into "atom_payload" rows of at most kChunkBytes; or it is a range of a
// payload block (kBlock): the new small contents of one write packed
// together into one "payload_blocks" row and compressed as one frame, which
// compresses short atoms (sentences, patches, 1 KiB records) far better and
// for a fraction of the CPU of one frame each. The content hash is always
// the SHA-256 of the decoded (original) bytes.
//
// EncodePayload compresses only when it pays: content shorter than
// kMinCompressBytes is kept raw without trying, and so is content whose
// frame would not be at least kMinSavedBytes smaller than the raw bytes.
// With Compression::kSampled (model tensor bytes), a large content is first
// judged by a sample (SampledSavings): it is compressed only when the
// sample saves at least kMinSampledSavings of its bytes, and stored raw
// without compressing it otherwise (see below for why).
// DecodePayload never produces more than the content size the caller
// expects (the atom record's content_size): a frame that declares or
// decodes to another size is DATA_LOSS, and so is a corrupt frame.
//
// Thread-safety: thread-safe. Each thread keeps its own zstd contexts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hartonomous::storage {

// Values of AtomRecord.payload_codec (storage/records.proto). Absent = raw.
enum class PayloadCodec : uint32_t {
  kRaw = 0,
  kZstd = 1,
  // A range of a payload block (AtomRecord.payload_block, block_offset).
  kBlock = 2,
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

// How EncodePayload / PackPayloads decide to compress.
enum class Compression {
  // Every content of at least kMinCompressBytes is compressed whole and
  // kept compressed when that saves kMinSavedBytes (text, records: small
  // contents that compress well).
  kAlways,
  // Contents of at least kSampleMinBytes are compressed only when a sample
  // of them saves at least kMinSampledSavings (smaller ones as kAlways).
  // For model tensor bytes: zstd level 1 runs at about 200-400 MB/s per
  // core on weights whose only redundancy is the entropy of their exponent
  // bytes (BF16 weights: 22% smaller), which costs about as much CPU per
  // byte as the rest of an import (two SHA-256 passes, the receive and the
  // copies) together: it is spent where it saves at least a quarter of the
  // bytes, and incompressible data (quantized blocks, F32 mantissas) costs
  // only the sample.
  kSampled,
};
inline constexpr size_t kSampleMinBytes = 64 * 1024;
// The sample: kSampleSlices slices of kSampleSliceBytes, spread evenly over
// the content (the first at its start, the last at its end), compressed as
// one frame.
inline constexpr size_t kSampleSlices = 4;
inline constexpr size_t kSampleSliceBytes = 4 * 1024;
// Compressed only when the sample's frame is at most 3/4 of the sample.
inline constexpr double kMinSampledSavings = 0.25;

// Contents packed by PackPayloads are grouped into blocks of at most
// kBlockBytes of raw bytes; contents larger than kMaxBlockedBytes are
// encoded on their own (EncodePayload).
inline constexpr size_t kBlockBytes = 64 * 1024;
inline constexpr size_t kMaxBlockedBytes = 16 * 1024;

// One payload block: the concatenated raw contents of its members, stored
// raw or as one zstd frame (whichever EncodePayload chooses).
struct PayloadBlock {
  PayloadCodec codec = PayloadCodec::kRaw;  // kRaw or kZstd
  uint32_t raw_size = 0;
  std::string stored;  // the frame, or the raw bytes
};

struct EncodedPayload {
  PayloadCodec codec = PayloadCodec::kRaw;
  // The zstd frame when codec == kZstd; empty for kRaw (the content itself
  // is stored) and kBlock.
  std::string frame;
  // codec == kBlock: the block holding the content at block_offset.
  std::shared_ptr<const PayloadBlock> block;
  uint32_t block_offset = 0;

  // Bytes stored for content of size content_size (for a block member, its
  // share of the block's stored bytes, rounded up).
  uint64_t stored_size(uint64_t content_size) const {
    switch (codec) {
      case PayloadCodec::kRaw:
        return content_size;
      case PayloadCodec::kZstd:
        return frame.size();
      case PayloadCodec::kBlock:
        return block->raw_size == 0
                   ? 0
                   : (content_size * block->stored.size() + block->raw_size - 1) / block->raw_size;
    }
    return content_size;
  }
};

// Chooses the encoding of content (see above). Never fails: any zstd error
// keeps the content raw.
EncodedPayload EncodePayload(std::string_view content,
                             Compression compression = Compression::kAlways);

// The fraction of the sample's bytes (see Compression::kSampled) that zstd
// level 1 saves: 0 when it does not compress (or fails), up to < 1.
// REQUIRES: content.size() >= kSampleSlices * kSampleSliceBytes.
double SampledSavings(std::string_view content);

// Encodes many contents at once: those of at most kMaxBlockedBytes are
// packed, in order, into blocks of at most kBlockBytes raw bytes, each
// compressed once; a block that would hold a single content, and every
// larger content, is encoded by EncodePayload. Empty contents stay raw.
// Result i belongs to contents[i].
// Contents larger than kMaxBlockedBytes are encoded with `compression`.
std::vector<EncodedPayload> PackPayloads(const std::vector<std::string_view>& contents,
                                         Compression compression = Compression::kAlways);

// Decodes stored bytes of the given codec into *content, which ends up with
// exactly content_size bytes. DATA_LOSS for an unknown codec, a corrupt
// frame, or a frame whose content size is not content_size; *content is then
// unspecified. what names the atom in error messages.
// codec kRaw or kZstd (a block's own encoding is one of those).
Status DecodePayload(PayloadCodec codec, std::string_view stored, uint64_t content_size,
                     const std::string& what, std::string* content);

}  // namespace hartonomous::storage
