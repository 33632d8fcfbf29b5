// Deduplication policy commands of `hartonomous`:
//   policies list [--active|--inactive]
//   policies show POLICY | policies create NAME [...] |
//   policies update POLICY [...] | policies delete POLICY
// POLICY is a policy id when it is all digits, else a policy name.
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <vector>

#include "cli_args.h"

namespace hartonomous::cli {

std::vector<OptionSpec> PolicyListOptions();
std::vector<OptionSpec> PolicyCreateOptions();
std::vector<OptionSpec> PolicyUpdateOptions();
void RunPolicyList(const Invocation& invocation);
void RunPolicyShow(const Invocation& invocation);
void RunPolicyCreate(const Invocation& invocation);
void RunPolicyUpdate(const Invocation& invocation);
void RunPolicyDelete(const Invocation& invocation);

}  // namespace hartonomous::cli
