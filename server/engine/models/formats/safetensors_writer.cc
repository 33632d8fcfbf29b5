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
  // Assembled piece by piece (an ordered_json object inserts in O(n)).
  std::string json = "{";
  try {
    const auto quoted = [](const std::string& t) { return nlohmann::json(t).dump(); };
    if (!metadata.empty()) {
      json += "\"__metadata__\":{";
      for (size_t i = 0; i < metadata.size(); ++i) {
        if (i > 0) json += ",";
        json += quoted(metadata[i].first) + ":" + quoted(metadata[i].second);
      }
      json += "}";
    }
    uint64_t at = 0;
    for (size_t i : plan.order) {
      if (json.size() > 1) json += ",";
      json += quoted(specs[i].name) + ":{\"dtype\":" + quoted(specs[i].dtype) +
              ",\"shape\":" + nlohmann::json(specs[i].shape).dump() + ",\"data_offsets\":[" +
              std::to_string(at) + "," + std::to_string(at + lengths[i]) + "]}";
      at += lengths[i];
    }
    plan.file_size = at;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("tensor names and metadata: must be UTF-8 (") +
                                   e.what() + ")");
  }
  json += "}";
  json.append((8 - json.size() % 8) % 8, ' ');
  const uint64_t n = json.size();
  plan.header.resize(8);
  for (int b = 0; b < 8; ++b) plan.header[b] = static_cast<char>((n >> (8 * b)) & 0xff);
  plan.header += json;
  plan.file_size += plan.header.size();
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
    HT_ASSIGN_OR_RETURN(
        const uint64_t want,
        SafetensorsByteLength("tensor \"" + specs[i].name + "\"", specs[i].dtype, specs[i].shape));
    if (data[i].size() != want) {
      return Status::InvalidArgument(
          "tensor \"" + specs[i].name + "\": " + std::to_string(data[i].size()) +
          " bytes of data, but shape x dtype is " + std::to_string(want));
    }
    out.append(data[i]);
  }
  return out;
}

}  // namespace hartonomous::engine::models
