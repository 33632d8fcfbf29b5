// `hartonomous keys create|list|revoke`: the server's API keys
// (AdminService; an admin key is needed once any key exists).
#pragma once

#include "cli_args.h"

namespace hartonomous::cli {

// keys create NAME --role read|write|admin: prints the new key's token once.
void RunKeysCreate(const Invocation& invocation);
// keys list: every key, revoked ones included, without secrets.
void RunKeysList(const Invocation& invocation);
// keys revoke ID.
void RunKeysRevoke(const Invocation& invocation);

}  // namespace hartonomous::cli
