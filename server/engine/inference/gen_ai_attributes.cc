#include "server/engine/inference/gen_ai_attributes.h"

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>

namespace hartonomous::engine {
namespace {

Status Conflict(std::string_view prefix, const std::string& key, std::string_view field) {
  return Status::InvalidArgument(std::string(prefix) + "attributes[" + key +
                                 "]: differs from the request's " + std::string(field));
}

Status BadNumber(std::string_view prefix, const std::string& key, std::string_view what) {
  return Status::InvalidArgument(std::string(prefix) + "attributes[" + key + "]: must be " +
                                 std::string(what));
}

Status MapText(std::string_view prefix, const std::string& key, const std::string& value,
               std::string_view field, std::string* target) {
  if (!target->empty() && *target != value) return Conflict(prefix, key, field);
  *target = value;
  return Status::Ok();
}

Status MapInteger(std::string_view prefix, const std::string& key, const std::string& value,
                  std::string_view field, std::optional<int64_t>* target) {
  errno = 0;
  char* end = nullptr;
  const long long parsed = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || end != value.c_str() + value.size() || errno != 0) {
    return BadNumber(prefix, key, "an integer");
  }
  if (target->has_value() && **target != parsed) return Conflict(prefix, key, field);
  *target = parsed;
  return Status::Ok();
}

Status MapDouble(std::string_view prefix, const std::string& key, const std::string& value,
                 std::string_view field, std::optional<double>* target) {
  errno = 0;
  char* end = nullptr;
  const double parsed = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || errno != 0) {
    return BadNumber(prefix, key, "a number");
  }
  if (target->has_value() && **target != parsed) return Conflict(prefix, key, field);
  *target = parsed;
  return Status::Ok();
}

}  // namespace

Status ApplyGenAiAttributes(std::string_view prefix, InferenceInput* in) {
  for (auto it = in->attributes.begin(); it != in->attributes.end();) {
    const std::string& key = it->first;
    const std::string& value = it->second;
    Status mapped = Status::Ok();
    bool known = true;
    if (key == "gen_ai.operation.name") {
      mapped = MapText(prefix, key, value, "task_type", &in->task_type);
    } else if (key == "gen_ai.request.model") {
      if (in->model_id != 0) {
        known = false;  // the id names the model; the name stays an attribute
      } else {
        mapped = MapText(prefix, key, value, "model_name", &in->model_name);
      }
    } else if (key == "gen_ai.response.model") {
      mapped = MapText(prefix, key, value, "response_model", &in->response_model);
    } else if (key == "gen_ai.provider.name" || key == "gen_ai.system") {
      mapped = MapText(prefix, key, value, "provider", &in->provider);
    } else if (key == "gen_ai.request.temperature") {
      mapped = MapDouble(prefix, key, value, "temperature", &in->temperature);
    } else if (key == "gen_ai.usage.input_tokens") {
      mapped = MapInteger(prefix, key, value, "input_tokens", &in->input_tokens);
    } else if (key == "gen_ai.usage.output_tokens") {
      mapped = MapInteger(prefix, key, value, "output_tokens", &in->output_tokens);
    } else {
      known = false;
    }
    HT_RETURN_IF_ERROR(mapped);
    it = known ? in->attributes.erase(it) : std::next(it);
  }
  return Status::Ok();
}

}  // namespace hartonomous::engine
