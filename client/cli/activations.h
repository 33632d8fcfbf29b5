// The `hartonomous activation put|get` commands: a model layer's cached
// activation for an input (InferenceService PutActivation / GetActivation).
// The input is named by its SHA-256: given as 64 hex digits or computed from
// a file.
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <vector>

#include "cli_args.h"

namespace hartonomous::cli {

std::vector<OptionSpec> ActivationPutOptions();
std::vector<OptionSpec> ActivationGetOptions();
void RunActivationPut(const Invocation& invocation);
void RunActivationGet(const Invocation& invocation);

}  // namespace hartonomous::cli
