// `hartonomous ingest-doc`, `get-doc`, `delete-doc` and `relations`: documents
// decomposed into atoms by the server, rebuilt from them, and the relation
// graph between atoms.
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <vector>

#include "cli_args.h"

namespace hartonomous::cli {

std::vector<OptionSpec> IngestDocOptions();
void RunIngestDoc(const Invocation& invocation);
void RunGetDoc(const Invocation& invocation);
void RunDeleteDoc(const Invocation& invocation);
void RunRelations(const Invocation& invocation);
// relations add SOURCE TARGET: one user-defined edge (AddRelations).
void RunRelationsAdd(const Invocation& invocation);
// relations traverse ID: the atoms reachable from ID, breadth first.
void RunRelationsTraverse(const Invocation& invocation);

}  // namespace hartonomous::cli
