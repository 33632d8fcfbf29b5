// Inference log commands of `hartonomous` (hartonomous.v1.InferenceService):
//   inference log    log one inference (model, task, texts, duration, ...)
//   inference list   inferences newest first, by model or task type
//   inference show   one inference with its steps and texts
//   inference stats  analytics per model or task type, as a table
//
// A model argument is a model_id when it is all digits, else a model name.
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <vector>

#include "cli_args.h"

namespace hartonomous::cli {

std::vector<OptionSpec> InferenceLogOptions();
std::vector<OptionSpec> InferenceListOptions();
std::vector<OptionSpec> InferenceStatsOptions();
void RunInferenceLog(const Invocation& invocation);
void RunInferenceList(const Invocation& invocation);
void RunInferenceShow(const Invocation& invocation);
void RunInferenceStats(const Invocation& invocation);
// inference prune --older-than-hours H: deletes the inferences that started
// more than H hours ago.
void RunInferencePrune(const Invocation& invocation);

}  // namespace hartonomous::cli
