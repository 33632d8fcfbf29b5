#include "server/engine/models/formats/gguf_writer.h"

#include <set>

#include "server/engine/models/formats/gguf_reader.h"

namespace hartonomous::engine::models {
namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutString(std::string* out, std::string_view s) {
  PutU64(out, s.size());
  out->append(s);
}

Status PutValue(std::string* out, const GgufValue& v, const std::string& field, int depth) {
  if (depth > 64) return Status::InvalidArgument(field + ": arrays nested too deep");
  if (v.type == GgufValueType::kString) {
    PutString(out, v.bytes);
    return Status::Ok();
  }
  if (v.type != GgufValueType::kArray) {
    if (v.bytes.size() != GgufScalarSize(v.type)) {
      return Status::InvalidArgument(field + ": scalar of the wrong size");
    }
    out->append(v.bytes);
    return Status::Ok();
  }
  PutU32(out, static_cast<uint32_t>(v.element_type));
  PutU64(out, v.count);
  const size_t scalar = GgufScalarSize(v.element_type);
  if (scalar > 0) {
    if (v.bytes.size() != v.count * scalar) {
      return Status::InvalidArgument(field + ": array bytes disagree with its count");
    }
    out->append(v.bytes);
  } else if (v.element_type == GgufValueType::kString) {
    if (v.string_ends.size() != v.count) {
      return Status::InvalidArgument(field + ": array strings disagree with its count");
    }
    for (uint64_t i = 0; i < v.count; ++i) {
      if (v.string_ends[i] > v.bytes.size() || (i > 0 && v.string_ends[i] < v.string_ends[i - 1])) {
        return Status::InvalidArgument(field + ": bad string offsets");
      }
      PutString(out, v.StringAt(i));
    }
  } else {
    if (v.items.size() != v.count) {
      return Status::InvalidArgument(field + ": array items disagree with its count");
    }
    for (const GgufValue& item : v.items) {
      if (item.type != GgufValueType::kArray) {
        return Status::InvalidArgument(field + ": element of an array of arrays is not an array");
      }
      HT_RETURN_IF_ERROR(PutValue(out, item, field, depth + 1));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<GgufPlan> PlanGguf(const std::vector<GgufKvSpec>& kvs,
                          const std::vector<GgufTensorSpec>& tensors, uint32_t version) {
  if (version != 2 && version != 3) return Status::InvalidArgument("version: must be 2 or 3");
  GgufPlan plan;
  std::string& h = plan.header;
  PutU32(&h, 0x46554747);
  PutU32(&h, version);
  PutU64(&h, tensors.size());
  PutU64(&h, kvs.size());
  uint64_t alignment = 32;
  std::set<std::string_view> keys;
  for (const GgufKvSpec& kv : kvs) {
    const std::string field = "metadata \"" + kv.key + "\"";
    if (!keys.insert(kv.key).second) return Status::InvalidArgument(field + ": repeated key");
    if (kv.key == "general.alignment") {
      const auto a = kv.value.AsUnsigned();
      if (kv.value.type != GgufValueType::kUint32 || !a || *a == 0 || (*a & (*a - 1)) != 0) {
        return Status::InvalidArgument(field + ": must be a u32 power of two");
      }
      alignment = *a;
    }
    PutString(&h, kv.key);
    PutU32(&h, static_cast<uint32_t>(kv.value.type));
    HT_RETURN_IF_ERROR(PutValue(&h, kv.value, field, 0));
  }
  std::set<std::string_view> names;
  uint64_t at = 0;
  for (const GgufTensorSpec& t : tensors) {
    const std::string field = "tensor \"" + t.name + "\"";
    if (t.name.empty()) return Status::InvalidArgument("tensor name: must not be empty");
    if (!names.insert(t.name).second) return Status::InvalidArgument(field + ": repeated name");
    for (size_t d = 0; d < t.dims.size(); ++d) {
      if (t.dims[d] == 0) {
        return Status::InvalidArgument(field + " dims[" + std::to_string(d) + "]: dimension 0");
      }
    }
    HT_ASSIGN_OR_RETURN(const uint64_t bytes, GgufTensorBytes(field, t.ggml_type, t.dims));
    PutString(&h, t.name);
    PutU32(&h, static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) PutU64(&h, d);
    PutU32(&h, t.ggml_type);
    PutU64(&h, at);
    plan.offsets.push_back(at);
    plan.lengths.push_back(bytes);
    const uint64_t padded = (bytes + alignment - 1) / alignment * alignment;
    plan.paddings.push_back(padded - bytes);
    at += padded;
  }
  h.append((alignment - h.size() % alignment) % alignment, '\0');
  plan.file_size = h.size() + at;
  return plan;
}

Result<std::string> WriteGguf(const std::vector<GgufKvSpec>& kvs,
                              const std::vector<GgufTensorSpec>& tensors,
                              const std::vector<std::string_view>& data, uint32_t version) {
  if (data.size() != tensors.size()) {
    return Status::InvalidArgument("data: one byte string per tensor is required");
  }
  HT_ASSIGN_OR_RETURN(GgufPlan plan, PlanGguf(kvs, tensors, version));
  std::string out = std::move(plan.header);
  out.reserve(plan.file_size);
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (data[i].size() != plan.lengths[i]) {
      return Status::InvalidArgument("tensor \"" + tensors[i].name +
                                     "\": " + std::to_string(data[i].size()) +
                                     " bytes of data, expected " + std::to_string(plan.lengths[i]));
    }
    out.append(data[i]);
    out.append(plan.paddings[i], '\0');
  }
  return out;
}

}  // namespace hartonomous::engine::models
