#include "server/engine/models/formats/safetensors_writer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "server/engine/models/formats/safetensors_dtype.h"
#include "server/engine/models/formats/safetensors_reader.h"

namespace hartonomous::engine::models {

Result<SafetensorsPlan> PlanSafetensors(
    const std::vector<SafetensorsTensorSpec>& specs,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  std::set<std::string_view> names;
  std::vector<uint64_t> lengths(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const SafetensorsTensorSpec& s = specs[i];
    const std::string field = "tensor \"" + s.name + "\"";
    if (s.name.empty()) return Status::InvalidArgument("tensor name: must not be empty");
    if (s.name == "__metadata__") {
      return Status::InvalidArgument(field + ": the name is reserved for metadata");
    }
    if (!names.insert(s.name).second) return Status::InvalidArgument(field + ": repeated name");
    HT_ASSIGN_OR_RETURN(lengths[i], SafetensorsByteLength(field, s.dtype, s.shape));
  }
  std::set<std::string_view> keys;
  for (const auto& [k, v] : metadata) {
    if (!keys.insert(k).second) {
      return Status::InvalidArgument("metadata: repeated key \"" + k + "\"");
    }
  }
  SafetensorsPlan plan;
  plan.order.resize(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) plan.order[i] = i;
  std::stable_sort(plan.order.begin(), plan.order.end(), [&](size_t a, size_t b) {
    const int ba = SafetensorsDtypeBits(*ParseSafetensorsDtype(specs[a].dtype));
    const int bb = SafetensorsDtypeBits(*ParseSafetensorsDtype(specs[b].dtype));
    return ba != bb ? ba > bb : specs[a].name < specs[b].name;
  });
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    root["__metadata__"] = std::move(m);
  }
  uint64_t at = 0;
  for (size_t i : plan.order) {
    nlohmann::ordered_json t = nlohmann::ordered_json::object();
    t["dtype"] = specs[i].dtype;
    t["shape"] = specs[i].shape;
    t["data_offsets"] = {at, at + lengths[i]};
    at += lengths[i];
    root[specs[i].name] = std::move(t);
  }
  std::string json;
  try {
    json = root.dump();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("metadata: not valid UTF-8 (") + e.what() + ")");
  }
  json.append((8 - json.size() % 8) % 8, ' ');
  const uint64_t n = json.size();
  plan.header.resize(8);
  for (int b = 0; b < 8; ++b) plan.header[b] = static_cast<char>((n >> (8 * b)) & 0xff);
  plan.header += json;
  plan.file_size = plan.header.size() + at;
  return plan;
}

Result<std::string> WriteSafetensors(
    const std::vector<SafetensorsTensorSpec>& specs, const std::vector<std::string_view>& data,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  if (data.size() != specs.size()) {
    return Status::InvalidArgument("data: one byte string per tensor is required");
  }
  HT_ASSIGN_OR_RETURN(SafetensorsPlan plan, PlanSafetensors(specs, metadata));
  std::string out = std::move(plan.header);
  out.reserve(plan.file_size);
  for (size_t i : plan.order) {
    HT_ASSIGN_OR_RETURN(const uint64_t want,
                        SafetensorsByteLength("tensor \"" + specs[i].name + "\"", specs[i].dtype,
                                              specs[i].shape));
    if (data[i].size() != want) {
      return Status::InvalidArgument("tensor \"" + specs[i].name + "\": " +
                                     std::to_string(data[i].size()) +
                                     " bytes of data, but shape x dtype is " +
                                     std::to_string(want));
    }
    out.append(data[i]);
  }
  return out;
}

}  // namespace hartonomous::engine::models
