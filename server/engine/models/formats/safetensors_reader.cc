#include "server/engine/models/formats/safetensors_reader.h"

#include <algorithm>
#include <string>

#include "server/engine/models/formats/safetensors_dtype.h"
#include "server/engine/models/formats/safetensors_header.h"

namespace hartonomous::engine::models {
namespace {

Status Bad(const std::string& msg) { return Status::InvalidArgument(msg); }

uint64_t ReadLe64(std::string_view b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[i]);
  return v;
}

std::string Field(const std::string& name) { return "header: tensor \"" + name + "\""; }

}  // namespace

Result<uint64_t> SafetensorsByteLength(std::string_view field, std::string_view dtype,
                                       const std::vector<uint64_t>& shape) {
  const auto parsed = ParseSafetensorsDtype(dtype);
  if (!parsed) {
    return Bad(std::string(field) + ".dtype: unknown dtype \"" + std::string(dtype) + "\"");
  }
  uint64_t count = 1;
  for (uint64_t d : shape) {
    if (d != 0 && count > UINT64_MAX / d) {
      return Bad(std::string(field) + ".shape: shape product overflows");
    }
    count *= d;
  }
  const uint64_t bits = static_cast<uint64_t>(SafetensorsDtypeBits(*parsed));
  if (count > UINT64_MAX / bits) return Bad(std::string(field) + ".shape: byte size overflows");
  if ((count * bits) % 8 != 0) {
    return Bad(std::string(field) + ".shape: " + std::to_string(count) + " x " +
               std::string(dtype) + " is not a whole number of bytes");
  }
  return count * bits / 8;
}

Result<SafetensorsHeader> ScanSafetensors(std::string_view prefix,
                                          std::optional<uint64_t> file_size,
                                          const SafetensorsOptions& options) {
  SafetensorsHeader result;
  if (file_size && prefix.size() > *file_size) {
    return Status::InvalidArgument("file: prefix longer than the file size");
  }
  const bool whole = file_size && prefix.size() == *file_size;
  if (prefix.size() < 8) {
    if (whole) return Bad("header: truncated: the file is shorter than the 8-byte header length");
    result.scan.need_bytes = 8;
    return result;
  }
  const uint64_t n = ReadLe64(prefix.substr(0, 8));
  if (n > options.max_header_bytes) {
    return Bad("header length: " + std::to_string(n) + " bytes, over the limit of " +
               std::to_string(options.max_header_bytes));
  }
  const uint64_t header_end = 8 + n;
  if (file_size && header_end > *file_size) {
    return Bad("header length: " + std::to_string(n) + " runs past the end of the file (" +
               std::to_string(*file_size) + " bytes)");
  }
  if (prefix.size() < header_end) {
    result.scan.need_bytes = header_end;
    return result;
  }
  HT_ASSIGN_OR_RETURN(SafetensorsHeaderJson json,
                      ParseSafetensorsHeaderJson(prefix.substr(8, n), options.max_rank));
  result.metadata = std::move(json.metadata);
  std::vector<SafetensorsEntry>& entries = json.entries;
  std::vector<uint64_t> lengths(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const SafetensorsEntry& e = entries[i];
    Result<uint64_t> bytes = SafetensorsByteLength("header: tensor \"", e.dtype, e.shape);
    if (!bytes.ok()) {
      // Name the tensor only on failure (no string built per tensor).
      HT_RETURN_IF_ERROR(SafetensorsByteLength(Field(e.name), e.dtype, e.shape).status());
    }
    if (e.end < e.begin) return Bad(Field(e.name) + ".data_offsets: end before begin");
    if (e.end - e.begin != *bytes) {
      return Bad(Field(e.name) + ".data_offsets: " + std::to_string(e.end - e.begin) +
                 " bytes, but shape x dtype is " + std::to_string(*bytes));
    }
    lengths[i] = *bytes;
  }
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return entries[a].begin != entries[b].begin ? entries[a].begin < entries[b].begin
                                                : entries[a].end < entries[b].end;
  });

  ModelLayout& layout = result.scan.layout;
  layout.format = ModelFormat::kSafetensors;
  layout.header_bytes = header_end;
  layout.max_trailing_padding = 0;
  layout.tensors.reserve(entries.size());
  layout.segments.push_back(Segment{SegmentKind::kHeader, 0, header_end, -1});
  uint64_t at = 0;  // relative to the data start
  for (size_t i : order) {
    SafetensorsEntry& e = entries[i];
    if (e.begin > at) {
      return Bad(Field(e.name) + ".data_offsets: leaves a gap of " + std::to_string(e.begin - at) +
                 " bytes before it");
    }
    if (e.begin < at) {
      const TensorInfo& prev = layout.tensors.back();
      const uint64_t prev_begin = prev.offset - header_end;
      if (prev_begin == e.begin && prev_begin + prev.length == e.end) {
        return Bad(Field(e.name) + ".data_offsets: aliases tensor \"" + prev.name + "\"");
      }
      return Bad(Field(e.name) + ".data_offsets: overlaps tensor \"" + prev.name + "\"");
    }
    if (header_end > UINT64_MAX - e.end) {
      return Bad(Field(e.name) + ".data_offsets: offset overflows");
    }
    if (file_size && header_end + e.end > *file_size) {
      return Bad(Field(e.name) + ".data_offsets: runs past the end of the file (" +
                 std::to_string(*file_size) + " bytes)");
    }
    TensorInfo t;
    t.offset = header_end + e.begin;
    t.length = lengths[i];
    t.parameter_count = 1;
    for (uint64_t d : e.shape) t.parameter_count *= d;  // checked by SafetensorsByteLength
    t.layer_type = GuessLayerType(e.name);
    t.name = std::move(e.name);
    t.dtype = std::move(e.dtype);
    t.shape = std::move(e.shape);
    at = e.end;
    layout.tensors.push_back(std::move(t));
    const TensorInfo& added = layout.tensors.back();
    if (added.length > 0) {
      layout.segments.push_back(Segment{SegmentKind::kTensor, added.offset, added.length,
                                        static_cast<int64_t>(layout.tensors.size() - 1)});
    }
  }
  layout.file_size = header_end + at;
  if (file_size) HT_RETURN_IF_ERROR(FinishLayout(&layout, *file_size));
  return result;
}

}  // namespace hartonomous::engine::models
