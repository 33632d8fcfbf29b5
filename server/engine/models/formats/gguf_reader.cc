#include "server/engine/models/formats/gguf_reader.h"

#include <algorithm>
#include <unordered_set>

#include "server/engine/models/formats/ggml_type.h"

namespace hartonomous::engine::models {
namespace {

Status Bad(const std::string& msg) { return Status::InvalidArgument(msg); }

constexpr uint32_t kMagic = 0x46554747;            // "GGUF" little-endian
constexpr uint64_t kMaxNodes = uint64_t{1} << 20;  // values inside arrays of arrays

// A cursor over the prefix. Every read either succeeds, or records why it
// could not: need_ (a longer prefix would help) or error_ (the file breaks
// a rule). Callers return false up the stack on failure.
class Reader {
 public:
  Reader(std::string_view data, std::optional<uint64_t> file_size, const GgufOptions& options)
      : data_(data), file_size_(file_size), options_(options) {}

  uint64_t pos() const { return pos_; }
  uint64_t need() const { return need_; }
  const Status& error() const { return error_; }

  bool Fail(const std::string& msg) {
    error_ = Bad(msg);
    return false;
  }

  // Bytes left for the header: to the end of the file when known, else to
  // the header limit.
  uint64_t Remaining() const {
    const uint64_t end =
        file_size_ ? std::min(*file_size_, options_.max_header_bytes) : options_.max_header_bytes;
    return end > pos_ ? end - pos_ : 0;
  }

  bool Have(uint64_t n, const std::string& field) {
    if (n <= data_.size() - pos_) return true;
    if (n > Remaining()) {
      if (file_size_ && pos_ + n > *file_size_) {
        return Fail(field + ": truncated: needs " + std::to_string(n) + " bytes, " +
                    std::to_string(Remaining()) + " remain");
      }
      return Fail("header: larger than the limit of " + std::to_string(options_.max_header_bytes) +
                  " bytes (at " + field + ")");
    }
    need_ = pos_ + n;
    return false;
  }

  bool Raw(uint64_t n, const std::string& field, std::string_view* out) {
    if (!Have(n, field)) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool U32(const std::string& field, uint32_t* v) {
    std::string_view b;
    if (!Raw(4, field, &b)) return false;
    *v = 0;
    for (int i = 3; i >= 0; --i) *v = (*v << 8) | static_cast<unsigned char>(b[i]);
    return true;
  }

  bool U64(const std::string& field, uint64_t* v) {
    std::string_view b;
    if (!Raw(8, field, &b)) return false;
    *v = 0;
    for (int i = 7; i >= 0; --i) *v = (*v << 8) | static_cast<unsigned char>(b[i]);
    return true;
  }

  // A length that must fit in the remaining bytes, each unit min_bytes long.
  bool CheckCount(uint64_t count, uint64_t min_bytes, const std::string& field) {
    if (min_bytes == 0 || count <= Remaining() / min_bytes) return true;
    const bool file_bound = file_size_ && *file_size_ <= options_.max_header_bytes;
    return Fail(field + ": length " + std::to_string(count) + " beyond the remaining " +
                std::to_string(Remaining()) + " bytes" +
                (file_bound ? std::string()
                            : " of the header limit of " +
                                  std::to_string(options_.max_header_bytes) + " bytes"));
  }

  bool String(const std::string& field, std::string_view* out) {
    uint64_t len;
    if (!U64(field + " length", &len)) return false;
    if (!CheckCount(len, 1, field)) return false;
    return Raw(len, field, out);
  }

  bool Value(GgufValueType type, const std::string& field, size_t depth, GgufValue* out) {
    out->type = type;
    if (type == GgufValueType::kString) {
      std::string_view s;
      if (!String(field, &s)) return false;
      out->bytes = std::string(s);
      return true;
    }
    if (type != GgufValueType::kArray) {
      std::string_view b;
      if (!Raw(GgufScalarSize(type), field, &b)) return false;
      if (type == GgufValueType::kBool && static_cast<unsigned char>(b[0]) > 1) {
        return Fail(field + ": bool value " + std::to_string(static_cast<unsigned char>(b[0])) +
                    " is not 0 or 1");
      }
      out->bytes = std::string(b);
      return true;
    }
    if (depth >= options_.max_array_depth) {
      return Fail(field + ": arrays nested deeper than " +
                  std::to_string(options_.max_array_depth) + " levels");
    }
    uint32_t raw_type;
    uint64_t count;
    if (!U32(field + " element type", &raw_type)) return false;
    if (!IsGgufValueType(raw_type)) {
      return Fail(field + ": unknown array element type " + std::to_string(raw_type));
    }
    const auto element = static_cast<GgufValueType>(raw_type);
    if (!U64(field + " count", &count)) return false;
    out->element_type = element;
    out->count = count;
    const size_t scalar = GgufScalarSize(element);
    if (scalar > 0) {
      if (!CheckCount(count, scalar, field)) return false;
      std::string_view b;
      if (!Raw(count * scalar, field, &b)) return false;
      if (element == GgufValueType::kBool) {
        for (char c : b) {
          if (static_cast<unsigned char>(c) > 1) return Fail(field + ": bool element not 0 or 1");
        }
      }
      out->bytes = std::string(b);
      return true;
    }
    if (element == GgufValueType::kString) {
      if (!CheckCount(count, 8, field)) return false;
      for (uint64_t i = 0; i < count; ++i) {
        std::string_view s;
        if (!String(field + "[" + std::to_string(i) + "]", &s)) return false;
        out->bytes.append(s);
        out->string_ends.push_back(out->bytes.size());
      }
      return true;
    }
    if (!CheckCount(count, 12, field)) return false;
    for (uint64_t i = 0; i < count; ++i) {
      if (++nodes_ > kMaxNodes) {
        return Fail(field + ": more than " + std::to_string(kMaxNodes) + " nested arrays");
      }
      GgufValue item;
      if (!Value(GgufValueType::kArray, field + "[" + std::to_string(i) + "]", depth + 1, &item)) {
        return false;
      }
      out->items.push_back(std::move(item));
    }
    return true;
  }

 private:
  std::string_view data_;
  std::optional<uint64_t> file_size_;
  const GgufOptions& options_;
  uint64_t pos_ = 0;
  uint64_t need_ = 0;
  uint64_t nodes_ = 0;
  Status error_;
};

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

struct RawTensor {
  TensorInfo info;
  uint32_t type = 0;
  uint64_t rel_offset = 0;
};

// Parses everything; returns false with r.need() or r.error() set.
bool ParseHeader(Reader& r, const GgufOptions& options, GgufHeader* h,
                 std::vector<RawTensor>* tensors) {
  uint32_t magic;
  if (!r.U32("magic", &magic)) return false;
  if (magic != kMagic) return r.Fail("magic: not a GGUF file (expected \"GGUF\")");
  if (!r.U32("version", &h->version)) return false;
  if (h->version != 2 && h->version != 3) {
    return r.Fail("version: " + std::to_string(h->version) +
                  " is not supported (GGUF 2 and 3, little-endian)");
  }
  uint64_t n_tensors, n_kv;
  if (!r.U64("tensor_count", &n_tensors) || !r.U64("metadata_kv_count", &n_kv)) return false;
  // A KV takes at least 8 + 4 + 1 bytes; a tensor info at least 8 + 4 + 4 + 8.
  if (!r.CheckCount(n_kv, 13, "metadata_kv_count")) return false;
  if (!r.CheckCount(n_tensors, 24, "tensor_count")) return false;

  std::unordered_set<std::string> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    GgufKv kv;
    kv.offset = r.pos();
    std::string_view key;
    if (!r.String("metadata[" + std::to_string(i) + "].key", &key)) return false;
    kv.key = std::string(key);
    const std::string field = "metadata \"" + kv.key + "\"";
    if (!keys.insert(kv.key).second) return r.Fail(field + ": duplicate key");
    uint32_t raw_type;
    if (!r.U32(field + " type", &raw_type)) return false;
    if (!IsGgufValueType(raw_type)) {
      return r.Fail(field + ": unknown value type " + std::to_string(raw_type));
    }
    if (!r.Value(static_cast<GgufValueType>(raw_type), field, 0, &kv.value)) return false;
    kv.length = r.pos() - kv.offset;
    if (kv.key == "general.alignment") {
      if (kv.value.type != GgufValueType::kUint32) {
        return r.Fail(field + ": must be a u32, got " + GgufValueTypeName(kv.value.type));
      }
      const uint64_t a = *kv.value.AsUnsigned();
      if (a == 0 || (a & (a - 1)) != 0) {
        return r.Fail(field + ": " + std::to_string(a) + " is not a power of two");
      }
      h->alignment = a;
    }
    h->metadata.push_back(std::move(kv));
  }

  std::unordered_set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    RawTensor t;
    std::string_view name;
    if (!r.String("tensor_info[" + std::to_string(i) + "].name", &name)) return false;
    t.info.name = std::string(name);
    const std::string field = "tensor \"" + t.info.name + "\"";
    if (t.info.name.empty()) return r.Fail("tensor_info[" + std::to_string(i) + "]: empty name");
    if (!names.insert(t.info.name).second) return r.Fail(field + ": duplicate tensor name");
    uint32_t n_dims;
    if (!r.U32(field + " n_dims", &n_dims)) return false;
    if (n_dims > options.max_rank) {
      return r.Fail(field + ": rank " + std::to_string(n_dims) + " over the cap of " +
                    std::to_string(options.max_rank));
    }
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim;
      const std::string dfield = field + " dims[" + std::to_string(d) + "]";
      if (!r.U64(dfield, &dim)) return false;
      if (dim == 0) return r.Fail(dfield + ": dimension 0");
      if (dim > static_cast<uint64_t>(INT64_MAX)) return r.Fail(dfield + ": over 2^63 - 1");
      t.info.shape.push_back(dim);
    }
    if (!r.U32(field + " type", &t.type)) return false;
    if (!r.U64(field + " offset", &t.rel_offset)) return false;
    tensors->push_back(std::move(t));
  }
  return true;
}

}  // namespace

Result<uint64_t> GgufTensorBytes(std::string_view field, uint32_t ggml_type,
                                 const std::vector<uint64_t>& dims) {
  const std::string f(field);
  const GgmlType* type = FindGgmlType(ggml_type);
  if (type == nullptr) return Bad(f + ": unknown ggml type " + std::to_string(ggml_type));
  const uint64_t ne0 = dims.empty() ? 1 : dims[0];
  if (ne0 % type->block_size != 0) {
    return Bad(f + ": dims[0] " + std::to_string(ne0) + " is not a multiple of the " +
               std::string(type->name) + " block size " + std::to_string(type->block_size));
  }
  uint64_t count = ne0 / type->block_size;
  for (size_t i = 1; i < dims.size(); ++i) {
    if (dims[i] != 0 && count > UINT64_MAX / dims[i]) return Bad(f + ": size overflows");
    count *= dims[i];
  }
  if (count > static_cast<uint64_t>(INT64_MAX) / type->type_size) {
    return Bad(f + ": size overflows");
  }
  return count * type->type_size;
}

Result<GgufHeader> ScanGguf(std::string_view prefix, std::optional<uint64_t> file_size,
                            const GgufOptions& options) {
  if (file_size && prefix.size() > *file_size) {
    return Status::InvalidArgument("file: prefix longer than the file size");
  }
  GgufHeader h;
  std::vector<RawTensor> tensors;
  Reader r(prefix, file_size, options);
  if (!ParseHeader(r, options, &h, &tensors)) {
    if (!r.error().ok()) return r.error();
    // Ask for at least twice the prefix so a long header costs O(log n)
    // parses, capped by the limit and the file.
    uint64_t want = std::max<uint64_t>(r.need(), 2 * prefix.size());
    want = std::min(want, options.max_header_bytes);
    if (file_size) want = std::min(want, *file_size);
    want = std::max(want, r.need());
    h.scan.need_bytes = want;
    h.metadata.clear();
    return h;
  }
  const uint64_t header_end = r.pos();
  const uint64_t a = h.alignment;
  if (header_end > UINT64_MAX - a) return Bad("header: size overflows");
  h.data_offset = AlignUp(header_end, a);

  ModelLayout& layout = h.scan.layout;
  layout.format = ModelFormat::kGguf;
  layout.header_bytes = header_end;
  layout.segments.push_back(Segment{SegmentKind::kHeader, 0, header_end, -1});
  for (RawTensor& t : tensors) {
    const std::string field = "tensor \"" + t.info.name + "\"";
    HT_ASSIGN_OR_RETURN(t.info.length, GgufTensorBytes(field, t.type, t.info.shape));
    if (t.rel_offset % a != 0) {
      return Bad(field + ": offset " + std::to_string(t.rel_offset) +
                 " is not a multiple of the alignment " + std::to_string(a));
    }
  }
  std::stable_sort(tensors.begin(), tensors.end(), [](const RawTensor& x, const RawTensor& y) {
    return x.rel_offset < y.rel_offset;
  });
  uint64_t expect = 0;  // where the next tensor must start, relative to data
  uint64_t end = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    RawTensor& t = tensors[i];
    const std::string field = "tensor \"" + t.info.name + "\"";
    if (t.rel_offset < expect) {
      const RawTensor& prev = tensors[i - 1];
      if (prev.rel_offset == t.rel_offset) {
        return Bad(field + ": offset aliases tensor \"" + prev.info.name + "\"");
      }
      return Bad(field + ": offset overlaps tensor \"" + prev.info.name + "\"");
    }
    if (t.rel_offset > expect) {
      return Bad(field + ": offset " + std::to_string(t.rel_offset) + " leaves a gap (expected " +
                 std::to_string(expect) + ")");
    }
    if (t.info.length > UINT64_MAX - h.data_offset - t.rel_offset - a) {
      return Bad(field + ": size overflows");
    }
    t.info.offset = h.data_offset + t.rel_offset;
    end = t.rel_offset + t.info.length;
    if (file_size && t.info.offset + t.info.length > *file_size) {
      return Bad(field + ": data runs past the end of the file (" + std::to_string(*file_size) +
                 " bytes)");
    }
    expect = AlignUp(end, a);
  }
  for (RawTensor& t : tensors) {
    uint64_t count = 1;
    for (uint64_t d : t.info.shape) count *= d;  // bounded by GgufTensorBytes
    t.info.parameter_count = count;
    const GgmlType* type = FindGgmlType(t.type);
    t.info.dtype = std::string(type->name);
    t.info.layer_type = GuessLayerType(t.info.name);
    const uint64_t prev_end = layout.segments.back().offset + layout.segments.back().length;
    AppendGap(&layout.segments, prev_end, t.info.offset, SegmentKind::kPadding);
    layout.tensors.push_back(std::move(t.info));
    h.ggml_types.push_back(t.type);
    layout.segments.push_back(Segment{SegmentKind::kTensor, layout.tensors.back().offset,
                                      layout.tensors.back().length,
                                      static_cast<int64_t>(layout.tensors.size() - 1)});
  }
  if (tensors.empty()) {
    layout.file_size = header_end;
    layout.max_trailing_padding = h.data_offset - header_end;
  } else {
    layout.file_size = h.data_offset + end;
    layout.max_trailing_padding = AlignUp(end, a) - end;
  }
  if (file_size) HT_RETURN_IF_ERROR(FinishLayout(&layout, *file_size));
  return h;
}

}  // namespace hartonomous::engine::models
