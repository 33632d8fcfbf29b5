#include "server/engine/models/formats/safetensors_reader.h"

#include <algorithm>
#include <string>

#include "server/engine/models/formats/safetensors_dtype.h"
#include "server/engine/models/formats/strict_json.h"

namespace hartonomous::engine::models {
namespace {

using Json = nlohmann::json;

// Root object -> tensor object -> shape array.
constexpr size_t kHeaderJsonDepth = 3;
constexpr std::string_view kMetadataKey = "__metadata__";

Status Bad(const std::string& msg) { return Status::InvalidArgument(msg); }

uint64_t ReadLe64(std::string_view b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[i]);
  return v;
}

Result<uint64_t> NonNegativeInteger(const std::string& field, const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) return Bad(field + ": negative value " + v.dump());
  return Bad(field + ": must be a non-negative integer, got " + std::string(v.type_name()));
}

Status ParseTensor(const std::string& name, const Json& entry, const SafetensorsOptions& options,
                   TensorInfo* out, uint64_t* begin, uint64_t* end) {
  const std::string field = "header: tensor \"" + name + "\"";
  if (name.empty()) return Bad("header: empty tensor name");
  if (!entry.is_object()) return Bad(field + ": must be an object");
  const auto dtype = entry.find("dtype");
  const auto shape = entry.find("shape");
  const auto offsets = entry.find("data_offsets");
  if (dtype == entry.end() || !dtype->is_string()) {
    return Bad(field + ".dtype: must be a string");
  }
  if (shape == entry.end() || !shape->is_array()) {
    return Bad(field + ".shape: must be an array");
  }
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2) {
    return Bad(field + ".data_offsets: must be an array [begin, end]");
  }
  if (shape->size() > options.max_rank) {
    return Bad(field + ".shape: rank " + std::to_string(shape->size()) + " over the cap of " +
               std::to_string(options.max_rank));
  }
  out->name = name;
  out->dtype = dtype->get<std::string>();
  out->shape.clear();
  for (size_t i = 0; i < shape->size(); ++i) {
    HT_ASSIGN_OR_RETURN(
        const uint64_t d,
        NonNegativeInteger(field + ".shape[" + std::to_string(i) + "]", (*shape)[i]));
    out->shape.push_back(d);
  }
  HT_ASSIGN_OR_RETURN(*begin, NonNegativeInteger(field + ".data_offsets[0]", (*offsets)[0]));
  HT_ASSIGN_OR_RETURN(*end, NonNegativeInteger(field + ".data_offsets[1]", (*offsets)[1]));
  if (*end < *begin) return Bad(field + ".data_offsets: end before begin");
  HT_ASSIGN_OR_RETURN(const uint64_t bytes, SafetensorsByteLength(field, out->dtype, out->shape));
  if (*end - *begin != bytes) {
    return Bad(field + ".data_offsets: " + std::to_string(*end - *begin) +
               " bytes, but shape x dtype is " + std::to_string(bytes));
  }
  uint64_t count = 1;
  for (uint64_t d : out->shape) count *= d;  // checked by SafetensorsByteLength
  out->parameter_count = count;
  out->length = bytes;
  out->layer_type = GuessLayerType(name);
  return Status::Ok();
}

}  // namespace

Result<uint64_t> SafetensorsByteLength(std::string_view field, std::string_view dtype,
                                       const std::vector<uint64_t>& shape) {
  const std::string f(field);
  const auto parsed = ParseSafetensorsDtype(dtype);
  if (!parsed) return Bad(f + ".dtype: unknown dtype \"" + std::string(dtype) + "\"");
  uint64_t count = 1;
  for (uint64_t d : shape) {
    if (d != 0 && count > UINT64_MAX / d) return Bad(f + ".shape: shape product overflows");
    count *= d;
  }
  const uint64_t bits = static_cast<uint64_t>(SafetensorsDtypeBits(*parsed));
  if (count > UINT64_MAX / bits) return Bad(f + ".shape: byte size overflows");
  if ((count * bits) % 8 != 0) {
    return Bad(f + ".shape: " + std::to_string(count) + " x " + std::string(dtype) +
               " is not a whole number of bytes");
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
  const std::string_view text = prefix.substr(8, n);
  HT_ASSIGN_OR_RETURN(const Json root, ParseStrictJson("header", text, kHeaderJsonDepth));
  if (!root.is_object()) return Bad("header: must be a JSON object");

  struct Entry {
    TensorInfo info;
    uint64_t begin = 0;
    uint64_t end = 0;
  };
  std::vector<Entry> entries;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == kMetadataKey) {
      if (!it.value().is_object()) return Bad("header: __metadata__ must be an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) {
          return Bad("header: __metadata__[\"" + m.key() + "\"]: must be a string, got " +
                     std::string(m.value().type_name()));
        }
        result.metadata.emplace_back(m.key(), m.value().get<std::string>());
      }
      continue;
    }
    Entry e;
    HT_RETURN_IF_ERROR(ParseTensor(it.key(), it.value(), options, &e.info, &e.begin, &e.end));
    entries.push_back(std::move(e));
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });

  ModelLayout& layout = result.scan.layout;
  layout.format = ModelFormat::kSafetensors;
  layout.header_bytes = header_end;
  layout.max_trailing_padding = 0;
  layout.segments.push_back(Segment{SegmentKind::kHeader, 0, header_end, -1});
  uint64_t at = 0;  // relative to the data start
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry& e = entries[i];
    const std::string field = "header: tensor \"" + e.info.name + "\".data_offsets";
    if (e.begin > at) {
      return Bad(field + ": leaves a gap of " + std::to_string(e.begin - at) + " bytes before it");
    }
    if (e.begin < at) {
      const TensorInfo& prev = layout.tensors.back();
      const uint64_t prev_begin = prev.offset - header_end;
      if (prev_begin == e.begin && prev_begin + prev.length == e.end) {
        return Bad(field + ": aliases tensor \"" + prev.name + "\"");
      }
      return Bad(field + ": overlaps tensor \"" + prev.name + "\"");
    }
    if (header_end > UINT64_MAX - e.end) return Bad(field + ": offset overflows");
    if (file_size && header_end + e.end > *file_size) {
      return Bad(field + ": runs past the end of the file (" + std::to_string(*file_size) +
                 " bytes)");
    }
    e.info.offset = header_end + e.begin;
    at = e.end;
    layout.tensors.push_back(std::move(e.info));
    const TensorInfo& t = layout.tensors.back();
    if (t.length > 0) {
      layout.segments.push_back(Segment{SegmentKind::kTensor, t.offset, t.length,
                                        static_cast<int64_t>(layout.tensors.size() - 1)});
    }
  }
  layout.file_size = header_end + at;
  if (file_size) HT_RETURN_IF_ERROR(FinishLayout(&layout, *file_size));
  return result;
}

}  // namespace hartonomous::engine::models
