#include "server/engine/documents/decompose/decomposition.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "server/engine/documents/decompose/chunker.h"
#include "server/engine/documents/decompose/image_codec.h"
#include "server/engine/documents/decompose/image_decomposer.h"
#include "server/engine/documents/decompose/text_decomposer.h"
#include "server/engine/documents/decompose/wav_decomposer.h"
#include "server/engine/documents/decompose/y4m_decomposer.h"

namespace hartonomous::engine {
namespace {

bool IsImageFormat(std::string_view f) {
  return f == "png" || f == "jpeg" || f == "pnm" || f == "idx";
}

std::string ModalityOf(std::string_view format) {
  if (format == "text") return "text";
  if (IsImageFormat(format)) return "image";
  if (format == "wav") return "audio";
  if (format == "y4m") return "video";
  return "binary";
}

}  // namespace

Status ValidateOptions(const DecomposeOptions& o) {
  if (o.patch_width < 1 || o.patch_width > 1024) {
    return Status::InvalidArgument("options.patch_width: must be 1..1024");
  }
  if (o.patch_height < 1 || o.patch_height > 1024) {
    return Status::InvalidArgument("options.patch_height: must be 1..1024");
  }
  if (o.frame_ms < 1 || o.frame_ms > 10000) {
    return Status::InvalidArgument("options.frame_ms: must be 1..10000");
  }
  if (o.chunk_min < 64 || o.chunk_min > o.chunk_avg || o.chunk_avg > o.chunk_max ||
      o.chunk_max > (1u << 20)) {
    return Status::InvalidArgument(
        "options.chunk_min/chunk_avg/chunk_max: must satisfy 64 <= min <= avg <= max <= 1048576");
  }
  static const char* kFormats[] = {"", "text", "binary", "wav", "pnm", "idx", "png", "jpeg", "y4m"};
  for (const char* f : kFormats) {
    if (o.format == f) return Status::Ok();
  }
  return Status::InvalidArgument(
      "options.format: must be empty (automatic) or one of text, binary, wav, pnm, idx, png, "
      "jpeg, y4m");
}

std::string SniffFormat(std::string_view c) {
  if (LooksLikePng(c)) return "png";
  if (LooksLikeJpeg(c)) return "jpeg";
  if (LooksLikeWav(c)) return "wav";
  if (LooksLikeY4m(c)) return "y4m";
  if (LooksLikePnm(c)) return "pnm";
  if (LooksLikeIdxImages(c)) return "idx";
  if (c.find('\0') == std::string_view::npos && FindInvalidUtf8(c) == std::string_view::npos) {
    return "text";
  }
  return "binary";
}

Result<Decomposition> Decompose(std::string_view content, std::string_view modality,
                                const DecomposeOptions& options) {
  HT_RETURN_IF_ERROR(ValidateOptions(options));
  std::string format = options.format;
  if (format.empty()) {
    const std::string sniffed = SniffFormat(content);
    if (modality.empty()) {
      format = sniffed;
    } else if (modality == "text") {
      format = "text";  // invalid UTF-8 is an error, not a fallback
    } else if (modality == "image") {
      // A damaged IDX file fails its size check in SniffFormat; as a declared
      // image its decomposer names what is wrong.
      const std::string image = IsImageFormat(sniffed)       ? sniffed
                                : LooksLikeIdxMagic(content) ? std::string("idx")
                                                             : sniffed;
      if (!IsImageFormat(image)) {
        return Status::InvalidArgument(
            "content: modality 'image' needs PNG, JPEG, binary PGM/PPM (P5/P6) or IDX "
            "(unsigned byte, 3 or 4 dimensions) content; none of their signatures matches");
      }
      format = image;
    } else if (modality == "audio") {
      if (sniffed != "wav") {
        return Status::InvalidArgument("content: modality 'audio' needs a WAV (RIFF/WAVE) file");
      }
      format = sniffed;
    } else if (modality == "video") {
      if (sniffed != "y4m") {
        return Status::InvalidArgument("content: modality 'video' needs a Y4M (YUV4MPEG2) file");
      }
      format = sniffed;
    } else {
      format = "binary";
    }
  }
  using Decomposer = Result<Decomposition> (*)(std::string_view, const DecomposeOptions&);
  static constexpr std::pair<std::string_view, Decomposer> kDecomposers[] = {
      {"text", DecomposeText}, {"wav", DecomposeWav}, {"pnm", DecomposePnm},
      {"idx", DecomposeIdx},   {"png", DecomposePng}, {"jpeg", DecomposeJpeg},
      {"y4m", DecomposeY4m}};
  const auto* decomposer = std::find_if(std::begin(kDecomposers), std::end(kDecomposers),
                                        [&](const auto& entry) { return entry.first == format; });
  Result<Decomposition> d =
      decomposer != std::end(kDecomposers)
          ? decomposer->second(content, options)
          : DecomposeBinary(content, modality.empty() ? ModalityOf(format) : modality, options);
  if (d.ok() && !modality.empty()) d->modality = std::string(modality);
  return d;
}

Result<std::string> Reassemble(const std::string& format, const nlohmann::json& info,
                               const std::vector<PartView>& parts, bool original) {
  try {
    if (IsImageFormat(format)) return ReassembleImage(format, info, parts, original);
    if (format == "y4m") return ReassembleY4m(info, parts);
    std::string out;
    size_t size = 0;
    for (const auto& p : parts) size += p.content.size();
    out.reserve(size);
    for (const auto& p : parts) out.append(p.content);
    return out;
  } catch (const nlohmann::json::exception& e) {
    return Status::DataLoss(std::string("document manifest: malformed layout info (") + e.what() +
                            ")");
  }
}

std::string ReassembledMediaType(const std::string& format, const nlohmann::json& info,
                                 bool original) {
  if (format == "png") return "image/png";
  if (format == "jpeg") return original ? "image/jpeg" : "image/png";
  if (format == "pnm")
    return info.value("channels", 1) == 3 ? "image/x-portable-pixmap" : "image/x-portable-graymap";
  if (format == "idx") return "application/x-idx";
  if (format == "wav") return "audio/wav";
  if (format == "y4m") return "video/x-yuv4mpeg";
  if (format == "text") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace hartonomous::engine
