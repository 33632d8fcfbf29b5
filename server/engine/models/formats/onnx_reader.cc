#include "server/engine/models/formats/onnx_reader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include "onnx.pb.h"
#include "server/engine/models/formats/protobuf_wire.h"

namespace hartonomous::engine::models {
namespace {

Status Bad(const std::string& msg) { return Status::InvalidArgument(msg); }

struct DataTypeRow {
  int32_t id;
  std::string_view name;
  size_t size;  // bytes per element in raw_data; 0 = special
};

constexpr std::array<DataTypeRow, 22> kDataTypes = {{
    {1, "FLOAT", 4},       {2, "UINT8", 1},           {3, "INT8", 1},
    {4, "UINT16", 2},      {5, "INT16", 2},           {6, "INT32", 4},
    {7, "INT64", 8},       {8, "STRING", 0},          {9, "BOOL", 1},
    {10, "FLOAT16", 2},    {11, "DOUBLE", 8},         {12, "UINT32", 4},
    {13, "UINT64", 8},     {14, "COMPLEX64", 8},      {15, "COMPLEX128", 16},
    {16, "BFLOAT16", 2},   {17, "FLOAT8E4M3FN", 1},   {18, "FLOAT8E4M3FNUZ", 1},
    {19, "FLOAT8E5M2", 1}, {20, "FLOAT8E5M2FNUZ", 1}, {21, "UINT4", 0},
    {22, "INT4", 0},
}};

const DataTypeRow* FindDataType(int32_t id) {
  for (const DataTypeRow& r : kDataTypes) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

// One tensor found by the walk, before the layout is assembled.
struct Found {
  TensorInfo info;
  OnnxTensor detail;
  uint64_t span_begin = 0;  // where its TensorProto starts (file order)
};

class Walker {
 public:
  Walker(std::string_view file, const OnnxOptions& options) : file_(file), options_(options) {}

  std::vector<Found>& found() { return found_; }

  Status Model() {
    WireReader r(file_, 0);
    WireField f;
    while (r.Next(&f, "model")) {
      if (f.number == 7 && f.type == WireType::kLen) HT_RETURN_IF_ERROR(Graph(f, 0));
    }
    return r.status();
  }

 private:
  std::string_view Span(const WireField& f) const {
    return file_.substr(f.value_begin, f.value_end - f.value_begin);
  }

  Status Graph(const WireField& g, size_t depth) {
    if (depth > options_.max_graph_depth) {
      return Bad("graph: subgraphs nested deeper than " + std::to_string(options_.max_graph_depth) +
                 " levels");
    }
    WireReader r(Span(g), g.value_begin);
    WireField f;
    while (r.Next(&f, "graph")) {
      if (f.type != WireType::kLen) continue;
      if (f.number == 1) HT_RETURN_IF_ERROR(Node(f, depth));
      if (f.number == 5) HT_RETURN_IF_ERROR(Tensor(f, OnnxTensorSource::kInitializer, "", depth));
      if (f.number == 15) HT_RETURN_IF_ERROR(Sparse(f, false, "", depth));
    }
    return r.status();
  }

  Status Node(const WireField& n, size_t depth) {
    WireReader r(Span(n), n.value_begin);
    WireField f;
    std::string op_type, output0;
    bool have_output = false;
    std::vector<WireField> attributes;
    while (r.Next(&f, "node")) {
      if (f.type != WireType::kLen) continue;
      if (f.number == 4) op_type = std::string(Span(f));
      if (f.number == 2 && !have_output) {
        output0 = std::string(Span(f));
        have_output = true;
      }
      if (f.number == 5) attributes.push_back(f);
    }
    HT_RETURN_IF_ERROR(r.status());
    for (const WireField& a : attributes) {
      HT_RETURN_IF_ERROR(Attribute(a, op_type == "Constant", output0, depth));
    }
    return Status::Ok();
  }

  Status Attribute(const WireField& a, bool constant, const std::string& output0, size_t depth) {
    WireReader r(Span(a), a.value_begin);
    WireField f;
    std::string name;
    std::vector<WireField> tensors, sparse, graphs;
    while (r.Next(&f, "attribute")) {
      if (f.type != WireType::kLen) continue;
      if (f.number == 1) name = std::string(Span(f));
      if (f.number == 5) tensors.push_back(f);
      if (f.number == 22) sparse.push_back(f);
      if (f.number == 6 || f.number == 10) graphs.push_back(f);
    }
    HT_RETURN_IF_ERROR(r.status());
    if (constant && name == "value") {
      for (const WireField& t : tensors) {
        HT_RETURN_IF_ERROR(Tensor(t, OnnxTensorSource::kConstant, output0, depth));
      }
    }
    if (constant && name == "sparse_value") {
      for (const WireField& s : sparse) HT_RETURN_IF_ERROR(Sparse(s, true, output0, depth));
    }
    for (const WireField& g : graphs) HT_RETURN_IF_ERROR(Graph(g, depth + 1));
    return Status::Ok();
  }

  Status Sparse(const WireField& s, bool constant, const std::string& output0, size_t depth) {
    onnx::SparseTensorProto proto;
    const std::string_view span = Span(s);
    if (!proto.ParseFromArray(span.data(), static_cast<int>(span.size()))) {
      return Bad("sparse tensor at byte " + std::to_string(s.value_begin) + ": not protobuf");
    }
    const std::string base = constant ? output0 : proto.values().name();
    WireReader r(span, s.value_begin);
    WireField f;
    while (r.Next(&f, "sparse tensor")) {
      if (f.type != WireType::kLen) continue;
      if (f.number == 1) {
        HT_RETURN_IF_ERROR(Tensor(f, OnnxTensorSource::kSparseValues, base, depth));
      }
      if (f.number == 2) {
        const std::string name =
            proto.indices().name().empty() ? base + ".indices" : proto.indices().name();
        HT_RETURN_IF_ERROR(Tensor(f, OnnxTensorSource::kSparseIndices, name, depth));
      }
    }
    return r.status();
  }

  Status Tensor(const WireField& t, OnnxTensorSource source, const std::string& name_override,
                size_t depth);

  std::string_view file_;
  const OnnxOptions& options_;
  std::vector<Found> found_;
};

template <typename Int>
void PutLe(std::string* out, Int v, size_t bytes) {
  const uint64_t u = static_cast<uint64_t>(v);
  for (size_t i = 0; i < bytes; ++i) out->push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

bool ParseDecimal(const std::string& s, uint64_t* v) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

Status Walker::Tensor(const WireField& t, OnnxTensorSource source, const std::string& name_override,
                      size_t depth) {
  onnx::TensorProto proto;
  const std::string_view span = Span(t);
  if (!proto.ParseFromArray(span.data(), static_cast<int>(span.size()))) {
    return Bad("tensor at byte " + std::to_string(t.value_begin) + ": not protobuf");
  }
  Found out;
  out.span_begin = t.value_begin;
  out.detail.source = source;
  out.detail.graph_depth = depth;
  out.detail.data_type = proto.data_type();
  TensorInfo& info = out.info;
  info.name = name_override.empty() ? proto.name() : name_override;
  const std::string field = "tensor \"" + info.name + "\"";
  const DataTypeRow* type = FindDataType(proto.data_type());
  if (type == nullptr) {
    return Bad(field + ".data_type: unknown data type " + std::to_string(proto.data_type()));
  }
  if (type->id == 8) return Bad(field + ".data_type: STRING tensors are not supported");
  info.dtype = std::string(type->name);
  if (static_cast<size_t>(proto.dims_size()) > options_.max_rank) {
    return Bad(field + ".dims: rank " + std::to_string(proto.dims_size()) + " over the cap of " +
               std::to_string(options_.max_rank));
  }
  uint64_t count = 1;
  for (int i = 0; i < proto.dims_size(); ++i) {
    const int64_t d = proto.dims(i);
    if (d < 0) {
      return Bad(field + ".dims[" + std::to_string(i) + "]: negative dimension " +
                 std::to_string(d));
    }
    const uint64_t u = static_cast<uint64_t>(d);
    // At most 2^59 elements: x 16 bytes (COMPLEX128) still fits 64 bits.
    if (u != 0 && count > (uint64_t{1} << 59) / u) return Bad(field + ".dims: shape overflows");
    count *= u;
    info.shape.push_back(u);
  }
  info.parameter_count = count;
  info.layer_type = GuessLayerType(info.name);
  const uint64_t expected =
      type->size == 0 ? (count + 1) / 2 : count * static_cast<uint64_t>(type->size);

  const bool external = proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL ||
                        proto.external_data_size() > 0;
  if (external) {
    std::string location;
    uint64_t offset = 0, length = 0;
    bool has_length = false;
    for (const auto& kv : proto.external_data()) {
      if (kv.key() == "location") location = kv.value();
      if (kv.key() == "offset" && !ParseDecimal(kv.value(), &offset)) {
        return Bad(field + ".external_data: offset \"" + kv.value() + "\" is not a number");
      }
      if (kv.key() == "length") {
        if (!ParseDecimal(kv.value(), &length)) {
          return Bad(field + ".external_data: length \"" + kv.value() + "\" is not a number");
        }
        has_length = true;
      }
    }
    const auto it = options_.external_files.find(location);
    if (it == options_.external_files.end() && options_.defer_external) {
      if (location.empty()) return Bad(field + ".external_data: no location");
      if (has_length && length != expected) {
        return Bad(field + ".external_data: " + std::to_string(length) +
                   " bytes, but dims x type needs " + std::to_string(expected));
      }
      if (offset > std::numeric_limits<uint64_t>::max() - expected) {
        return Bad(field + ".external_data: offset " + std::to_string(offset) + " overflows");
      }
      info.in_file = false;
      out.detail.external_location = location;
      out.detail.external_offset = offset;
      out.detail.external_length = expected;
      out.detail.external_length_given = has_length;
      found_.push_back(std::move(out));
      return Status::Ok();
    }
    if (it == options_.external_files.end()) {
      return Bad(field + ".external_data: external data \"" + location +
                 "\" was not supplied (external files are never opened by path)");
    }
    const std::string_view ext = it->second;
    if (!has_length) length = offset <= ext.size() ? ext.size() - offset : 0;
    if (offset > ext.size() || length > ext.size() - offset) {
      return Bad(field + ".external_data: offset/length run past the end of \"" + location + "\"");
    }
    if (length != expected) {
      return Bad(field + ".external_data: " + std::to_string(length) +
                 " bytes, but dims x type needs " + std::to_string(expected));
    }
    info.in_file = false;
    out.detail.external_location = location;
    out.detail.external_offset = offset;
    out.detail.external_length = length;
    out.detail.decoded = std::string(ext.substr(offset, length));
    found_.push_back(std::move(out));
    return Status::Ok();
  }

  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != expected) {
      return Bad(field + ".raw_data: " + std::to_string(proto.raw_data().size()) +
                 " bytes, but dims x " + std::string(type->name) + " needs " +
                 std::to_string(expected));
    }
    // The last raw_data field wins, as in the protobuf parse.
    WireReader r(span, t.value_begin);
    WireField f;
    uint64_t begin = 0, end = 0;
    while (r.Next(&f, "tensor")) {
      if (f.number == 9 && f.type == WireType::kLen) {
        begin = f.value_begin;
        end = f.value_end;
      }
    }
    HT_RETURN_IF_ERROR(r.status());
    if (end - begin != expected) return Status::Internal(field + ": raw_data walk disagrees");
    info.offset = begin;
    info.length = end - begin;
    found_.push_back(std::move(out));
    return Status::Ok();
  }

  // Typed fields. Complex types hold two values per element.
  const uint64_t values = (type->id == 14 || type->id == 15) ? 2 * count : count;
  const auto wrong_count = [&](const char* name, uint64_t n) {
    return Bad(field + "." + name + ": " + std::to_string(n) + " values, but dims x " +
               std::string(type->name) + " needs " + std::to_string(values));
  };
  std::string& dec = out.detail.decoded;
  int packed_field = 0;
  switch (type->id) {
    case 1:
    case 14:
      if (static_cast<uint64_t>(proto.float_data_size()) != values) {
        return wrong_count("float_data", proto.float_data_size());
      }
      dec.resize(values * 4);
      if (values > 0) std::memcpy(dec.data(), proto.float_data().data(), values * 4);
      packed_field = 4;
      break;
    case 11:
    case 15:
      if (static_cast<uint64_t>(proto.double_data_size()) != values) {
        return wrong_count("double_data", proto.double_data_size());
      }
      dec.resize(values * 8);
      if (values > 0) std::memcpy(dec.data(), proto.double_data().data(), values * 8);
      packed_field = 10;
      break;
    case 7:
      if (static_cast<uint64_t>(proto.int64_data_size()) != values) {
        return wrong_count("int64_data", proto.int64_data_size());
      }
      for (int64_t v : proto.int64_data()) PutLe(&dec, v, 8);
      break;
    case 12:
    case 13:
      if (static_cast<uint64_t>(proto.uint64_data_size()) != values) {
        return wrong_count("uint64_data", proto.uint64_data_size());
      }
      for (uint64_t v : proto.uint64_data()) PutLe(&dec, v, type->size);
      break;
    case 21:
    case 22:
      return Bad(field + ": " + std::string(type->name) + " values must be in raw_data");
    default:  // int32_data: INT32, (U)INT16, (U)INT8, BOOL, FLOAT16, BFLOAT16, FLOAT8*
      if (static_cast<uint64_t>(proto.int32_data_size()) != values) {
        return wrong_count("int32_data", proto.int32_data_size());
      }
      for (int32_t v : proto.int32_data()) {
        if (type->id == 9) v = v != 0 ? 1 : 0;
        PutLe(&dec, v, type->size);
      }
      break;
  }
  info.in_file = false;
  if (packed_field != 0 && values > 0) {
    // One packed field holding every value is a contiguous range of the file.
    WireReader r(span, t.value_begin);
    WireField f;
    int occurrences = 0;
    WireField packed;
    while (r.Next(&f, "tensor")) {
      if (f.number == static_cast<uint32_t>(packed_field)) {
        ++occurrences;
        packed = f;
      }
    }
    HT_RETURN_IF_ERROR(r.status());
    if (occurrences == 1 && packed.type == WireType::kLen &&
        packed.value_end - packed.value_begin == dec.size() &&
        file_.substr(packed.value_begin, dec.size()) == dec) {
      info.in_file = true;
      info.offset = packed.value_begin;
      info.length = dec.size();
      dec.clear();
    }
  }
  found_.push_back(std::move(out));
  return Status::Ok();
}

}  // namespace

const char* OnnxTensorSourceName(OnnxTensorSource source) {
  switch (source) {
    case OnnxTensorSource::kInitializer:
      return "initializer";
    case OnnxTensorSource::kSparseValues:
      return "sparse_values";
    case OnnxTensorSource::kSparseIndices:
      return "sparse_indices";
    case OnnxTensorSource::kConstant:
      return "constant";
  }
  return "initializer";
}

size_t OnnxElementSize(int32_t data_type) {
  const DataTypeRow* r = FindDataType(data_type);
  return r == nullptr ? 0 : r->size;
}

std::string_view OnnxDataTypeName(int32_t data_type) {
  const DataTypeRow* r = FindDataType(data_type);
  return r == nullptr ? std::string_view() : r->name;
}

Result<OnnxModel> ParseOnnx(std::string_view file, const OnnxOptions& options) {
  const uint64_t limit = std::min<uint64_t>(options.max_file_bytes, (uint64_t{1} << 31) - 1);
  if (file.size() > limit) {
    return Bad("file: " + std::to_string(file.size()) + " bytes, over the limit of " +
               std::to_string(limit));
  }
  {
    onnx::ModelProto model;
    if (!model.ParseFromArray(file.data(), static_cast<int>(file.size()))) {
      return Bad("model: not protobuf (not an ONNX ModelProto)");
    }
    if (!model.has_graph()) return Bad("model.graph: missing (not an ONNX model)");
  }
  Walker walker(file, options);
  HT_RETURN_IF_ERROR(walker.Model());
  std::vector<Found>& found = walker.found();
  std::stable_sort(found.begin(), found.end(),
                   [](const Found& a, const Found& b) { return a.span_begin < b.span_begin; });
  OnnxModel model;
  ModelLayout& layout = model.layout;
  layout.format = ModelFormat::kOnnx;
  layout.file_size = file.size();
  layout.header_bytes = file.size();
  uint64_t at = 0;
  for (Found& f : found) {
    layout.tensors.push_back(std::move(f.info));
    model.details.push_back(std::move(f.detail));
    const TensorInfo& t = layout.tensors.back();
    if (!t.in_file || t.length == 0) continue;
    if (t.offset < at) return Status::Internal("tensor \"" + t.name + "\": ranges overlap");
    AppendGap(&layout.segments, at, t.offset, SegmentKind::kOther);
    layout.segments.push_back(Segment{SegmentKind::kTensor, t.offset, t.length,
                                      static_cast<int64_t>(layout.tensors.size() - 1)});
    at = t.offset + t.length;
  }
  AppendGap(&layout.segments, at, file.size(), SegmentKind::kOther);
  return model;
}

std::string_view OnnxTensorValues(const OnnxModel& model, size_t i, std::string_view file) {
  const TensorInfo& t = model.layout.tensors[i];
  if (t.in_file) return file.substr(t.offset, t.length);
  return model.details[i].decoded;
}

}  // namespace hartonomous::engine::models
