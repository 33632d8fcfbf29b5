#include "server/engine/models/formats/tensor_replace.h"

namespace hartonomous::engine::models {

Result<std::string> ReplaceTensorData(const ModelLayout& layout, std::string_view file,
                                      const std::vector<TensorReplacement>& replacements) {
  if (file.size() != layout.file_size) {
    return Status::InvalidArgument("file: " + std::to_string(file.size()) +
                                   " bytes, the layout describes " +
                                   std::to_string(layout.file_size));
  }
  std::vector<const TensorReplacement*> by_tensor(layout.tensors.size(), nullptr);
  for (const TensorReplacement& r : replacements) {
    if (r.tensor >= layout.tensors.size()) {
      return Status::InvalidArgument("replacement: tensor index " + std::to_string(r.tensor) +
                                     " out of range");
    }
    const TensorInfo& t = layout.tensors[r.tensor];
    const std::string field = "tensor \"" + t.name + "\"";
    if (by_tensor[r.tensor] != nullptr) return Status::InvalidArgument(field + ": replaced twice");
    if (!t.in_file) {
      return Status::InvalidArgument(field + ": its values are not one range of the file");
    }
    if (r.bytes.size() != t.length) {
      return Status::InvalidArgument(field + ": " + std::to_string(r.bytes.size()) +
                                     " new bytes, the tensor has " + std::to_string(t.length));
    }
    by_tensor[r.tensor] = &r;
  }
  std::string out;
  out.reserve(file.size());
  for (const Segment& s : layout.segments) {
    if (s.kind == SegmentKind::kTensor && by_tensor[s.tensor] != nullptr) {
      out.append(by_tensor[s.tensor]->bytes);
    } else {
      out.append(file.substr(s.offset, s.length));
    }
  }
  return out;
}

}  // namespace hartonomous::engine::models
