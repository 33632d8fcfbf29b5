#include "server/engine/models/formats/model_file.h"

#include <string>

namespace hartonomous::engine::models {

std::optional<ModelFormat> ParseModelFormatName(std::string_view name) {
  if (name == "safetensors") return ModelFormat::kSafetensors;
  if (name == "gguf") return ModelFormat::kGguf;
  if (name == "onnx") return ModelFormat::kOnnx;
  return std::nullopt;
}

std::optional<ModelFormat> DetectModelFormat(std::string_view prefix, std::string_view file_name) {
  if (prefix.substr(0, 4) == "GGUF") return ModelFormat::kGguf;
  if (prefix.size() >= 9 && prefix[8] == '{') return ModelFormat::kSafetensors;
  const auto ends = [&](std::string_view ext) {
    return file_name.size() >= ext.size() && file_name.substr(file_name.size() - ext.size()) == ext;
  };
  if (ends(".gguf")) return ModelFormat::kGguf;
  if (ends(".safetensors")) return ModelFormat::kSafetensors;
  if (ends(".onnx")) return ModelFormat::kOnnx;
  if (!prefix.empty() && prefix[0] == '\x08') return ModelFormat::kOnnx;
  return std::nullopt;
}

Result<LayoutScan> ScanModelFile(ModelFormat format, std::string_view prefix,
                                 std::optional<uint64_t> file_size,
                                 const ModelScanOptions& options) {
  switch (format) {
    case ModelFormat::kSafetensors: {
      HT_ASSIGN_OR_RETURN(SafetensorsHeader h,
                          ScanSafetensors(prefix, file_size, options.safetensors));
      return std::move(h.scan);
    }
    case ModelFormat::kGguf: {
      HT_ASSIGN_OR_RETURN(GgufHeader h, ScanGguf(prefix, file_size, options.gguf));
      return std::move(h.scan);
    }
    case ModelFormat::kOnnx: {
      if (!file_size) {
        return Status::InvalidArgument(
            "file size: must be known for ONNX (the file is parsed whole)");
      }
      if (*file_size > options.onnx.max_file_bytes) {
        return Status::InvalidArgument("file: " + std::to_string(*file_size) +
                                       " bytes, over the ONNX limit of " +
                                       std::to_string(options.onnx.max_file_bytes));
      }
      if (prefix.size() < *file_size) {
        LayoutScan more;
        more.need_bytes = *file_size;
        return more;
      }
      if (prefix.size() > *file_size) {
        return Status::InvalidArgument("file: prefix longer than the file size");
      }
      HT_ASSIGN_OR_RETURN(OnnxModel m, ParseOnnx(prefix, options.onnx));
      LayoutScan scan;
      scan.layout = std::move(m.layout);
      return scan;
    }
  }
  return Status::InvalidArgument("format: unknown");
}

}  // namespace hartonomous::engine::models
