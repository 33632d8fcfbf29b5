#include "storage/payload_codec.h"

#include <zstd.h>

#include <memory>

namespace hartonomous::storage {
namespace {

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
  return cctx.get();
}

ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  return dctx.get();
}

}  // namespace

double SampledSavings(std::string_view content) {
  std::string sample;
  sample.reserve(kSampleSlices * kSampleSliceBytes);
  const size_t last = content.size() - kSampleSliceBytes;
  for (size_t i = 0; i < kSampleSlices; ++i) {
    sample.append(content.substr(last * i / (kSampleSlices - 1), kSampleSliceBytes));
  }
  ZSTD_CCtx* cctx = ThreadCCtx();
  if (cctx == nullptr) return 0;
  std::string frame(ZSTD_compressBound(sample.size()), '\0');
  const size_t n =
      ZSTD_compressCCtx(cctx, frame.data(), frame.size(), sample.data(), sample.size(), kZstdLevel);
  if (ZSTD_isError(n) || n >= sample.size()) return 0;
  return 1.0 - static_cast<double>(n) / static_cast<double>(sample.size());
}

EncodedPayload EncodePayload(std::string_view content, Compression compression) {
  EncodedPayload out;
  if (content.size() < kMinCompressBytes) return out;
  if (compression == Compression::kSampled && content.size() >= kSampleMinBytes &&
      SampledSavings(content) < kMinSampledSavings) {
    return out;
  }
  ZSTD_CCtx* cctx = ThreadCCtx();
  if (cctx == nullptr) return out;
  // Only a frame smaller than raw - kMinSavedBytes is kept, so that is all
  // the room it gets: zstd fails fast with dstSize_tooSmall otherwise.
  const size_t limit = content.size() - kMinSavedBytes;
  out.frame.resize(std::min(limit, ZSTD_compressBound(content.size())));
  const size_t n = ZSTD_compressCCtx(cctx, out.frame.data(), out.frame.size(), content.data(),
                                     content.size(), kZstdLevel);
  if (ZSTD_isError(n) || n > limit) {
    out.frame.clear();
    out.frame.shrink_to_fit();
    return out;
  }
  out.frame.resize(n);
  out.codec = PayloadCodec::kZstd;
  return out;
}

std::vector<EncodedPayload> PackPayloads(const std::vector<std::string_view>& contents,
                                         Compression compression) {
  std::vector<EncodedPayload> out(contents.size());
  // Members of the block being filled: indexes into contents.
  std::vector<size_t> members;
  size_t filled = 0;
  auto close_block = [&] {
    if (members.size() == 1) {
      out[members[0]] = EncodePayload(contents[members[0]]);
    } else if (members.size() > 1) {
      std::string raw;
      raw.reserve(filled);
      for (size_t i : members) raw.append(contents[i]);
      EncodedPayload whole = EncodePayload(raw);
      auto block = std::make_shared<PayloadBlock>();
      block->codec = whole.codec;
      block->raw_size = static_cast<uint32_t>(raw.size());
      block->stored = whole.codec == PayloadCodec::kRaw ? std::move(raw) : std::move(whole.frame);
      uint32_t offset = 0;
      for (size_t i : members) {
        out[i].codec = PayloadCodec::kBlock;
        out[i].block = block;
        out[i].block_offset = offset;
        offset += static_cast<uint32_t>(contents[i].size());
      }
    }
    members.clear();
    filled = 0;
  };
  for (size_t i = 0; i < contents.size(); ++i) {
    const size_t size = contents[i].size();
    if (size == 0) continue;
    if (size > kMaxBlockedBytes) {
      out[i] = EncodePayload(contents[i], compression);
      continue;
    }
    if (filled + size > kBlockBytes) close_block();
    members.push_back(i);
    filled += size;
  }
  close_block();
  return out;
}

Status DecodePayload(PayloadCodec codec, std::string_view stored, uint64_t content_size,
                     const std::string& what, std::string* content) {
  switch (codec) {
    case PayloadCodec::kRaw:
      if (stored.size() != content_size) {
        return Status::DataLoss(what + ": content size mismatch");
      }
      content->assign(stored);
      return Status::Ok();
    case PayloadCodec::kZstd: {
      // The frame header must declare exactly content_size before any
      // output is allocated; decoding is then bounded by that size.
      const unsigned long long declared = ZSTD_getFrameContentSize(stored.data(), stored.size());
      if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN) {
        return Status::DataLoss(what + ": corrupt compressed content (bad frame header)");
      }
      if (declared != content_size) {
        return Status::DataLoss(what + ": compressed content declares " + std::to_string(declared) +
                                " bytes, the record " + std::to_string(content_size));
      }
      ZSTD_DCtx* dctx = ThreadDCtx();
      if (dctx == nullptr) return Status::Internal("ZSTD_createDCtx failed");
      content->resize(content_size);
      const size_t n =
          ZSTD_decompressDCtx(dctx, content->data(), content->size(), stored.data(), stored.size());
      if (ZSTD_isError(n)) {
        return Status::DataLoss(what + ": corrupt compressed content (" + ZSTD_getErrorName(n) +
                                ")");
      }
      if (n != content_size) {
        return Status::DataLoss(what + ": compressed content decodes to " + std::to_string(n) +
                                " bytes, the record says " + std::to_string(content_size));
      }
      return Status::Ok();
    }
    case PayloadCodec::kBlock:
      break;
  }
  return Status::DataLoss(what + ": unknown payload codec " +
                          std::to_string(static_cast<uint32_t>(codec)));
}

}  // namespace hartonomous::storage
