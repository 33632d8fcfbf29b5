// OpenTelemetry GenAI semantic-convention attributes of an inference,
// mapped onto its fields so that spans of instrumented applications log
// directly:
//
//   gen_ai.operation.name       -> task_type
//   gen_ai.request.model        -> model_name (when no model_id is given)
//   gen_ai.response.model       -> response_model
//   gen_ai.provider.name,
//   gen_ai.system (older name)  -> provider
//   gen_ai.request.temperature  -> temperature
//   gen_ai.usage.input_tokens   -> input_tokens
//   gen_ai.usage.output_tokens  -> output_tokens
//
// A mapped attribute leaves the attribute map; the others are kept as they
// are. An attribute that disagrees with the field set in the request, or a
// number that does not parse, is InvalidArgument naming
// "<prefix>attributes[<key>]" and the rule.
//
// Thread-safety: pure function.
#pragma once

#include <string_view>

#include "base/status.h"
#include "server/engine/inference/inference_engine.h"

namespace hartonomous::engine {

Status ApplyGenAiAttributes(std::string_view prefix, InferenceInput* input);

}  // namespace hartonomous::engine
