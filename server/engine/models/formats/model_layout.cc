#include "server/engine/models/formats/model_layout.h"

#include <string>

namespace hartonomous::engine::models {

const char* ModelFormatName(ModelFormat format) {
  switch (format) {
    case ModelFormat::kSafetensors:
      return "safetensors";
    case ModelFormat::kGguf:
      return "gguf";
    case ModelFormat::kOnnx:
      return "onnx";
  }
  return "unknown";
}

const char* SegmentKindName(SegmentKind kind) {
  switch (kind) {
    case SegmentKind::kHeader:
      return "header";
    case SegmentKind::kPadding:
      return "padding";
    case SegmentKind::kOther:
      return "other";
    case SegmentKind::kTensor:
      return "tensor";
  }
  return "other";
}

void AppendGap(std::vector<Segment>* segments, uint64_t from, uint64_t to, SegmentKind kind) {
  if (to <= from) return;
  segments->push_back(Segment{kind, from, to - from, -1});
}

Status FinishLayout(ModelLayout* layout, uint64_t file_size) {
  if (file_size < layout->file_size) {
    return Status::InvalidArgument("file: truncated: " + std::to_string(file_size) +
                                   " bytes, the tensors need " + std::to_string(layout->file_size));
  }
  const uint64_t extra = file_size - layout->file_size;
  if (extra > layout->max_trailing_padding) {
    return Status::InvalidArgument("file: " + std::to_string(extra) +
                                   " trailing bytes after the last tensor (at most " +
                                   std::to_string(layout->max_trailing_padding) + " allowed)");
  }
  AppendGap(&layout->segments, layout->file_size, file_size, SegmentKind::kPadding);
  layout->file_size = file_size;
  return Status::Ok();
}

Status ValidateLayout(const ModelLayout& layout) {
  uint64_t at = 0;
  std::vector<int> seen(layout.tensors.size(), 0);
  for (size_t i = 0; i < layout.segments.size(); ++i) {
    const Segment& s = layout.segments[i];
    const std::string where = "segment " + std::to_string(i);
    if (s.length == 0) return Status::Internal(where + ": empty");
    if (s.offset != at) return Status::Internal(where + ": does not start where the last ended");
    if (s.kind == SegmentKind::kTensor) {
      if (s.tensor < 0 || static_cast<size_t>(s.tensor) >= layout.tensors.size()) {
        return Status::Internal(where + ": no tensor");
      }
      const TensorInfo& t = layout.tensors[s.tensor];
      if (!t.in_file || t.offset != s.offset || t.length != s.length) {
        return Status::Internal(where + ": does not match tensor " + t.name);
      }
      ++seen[s.tensor];
    } else if (s.tensor != -1) {
      return Status::Internal(where + ": non-tensor segment names a tensor");
    }
    at += s.length;
  }
  if (at != layout.file_size) return Status::Internal("segments do not end at the file size");
  for (size_t i = 0; i < layout.tensors.size(); ++i) {
    const TensorInfo& t = layout.tensors[i];
    const int want = (t.in_file && t.length > 0) ? 1 : 0;
    if (seen[i] != want) return Status::Internal("tensor " + t.name + ": not one segment");
  }
  return Status::Ok();
}

std::string ConcatenateSegments(const ModelLayout& layout, std::string_view file) {
  std::string out;
  out.reserve(file.size());
  for (const Segment& s : layout.segments) out.append(file.substr(s.offset, s.length));
  return out;
}

}  // namespace hartonomous::engine::models
