// Collection and embedding commands of `hartonomous`:
//   collections create NAME --dim N [--metric --index --type ...]
//   collections show NAME | collections list | collections delete NAME
//   collections rebuild NAME | collections snapshot NAME
//   embeddings show ATOM_ID | embeddings delete COLLECTION ATOM_ID
//   add-embeddings COLLECTION FILE   vectors for existing atoms (or
//                                    documents) from .npy/.fvecs (with
//                                    --atoms), CSV or JSON lines
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <vector>

#include "cli_args.h"

namespace hartonomous::cli {

std::vector<OptionSpec> CollectionCreateOptions();
void RunCollectionCreate(const Invocation& invocation);
void RunCollectionShow(const Invocation& invocation);
void RunCollectionDelete(const Invocation& invocation);
void RunCollectionRebuild(const Invocation& invocation);
void RunCollectionSnapshot(const Invocation& invocation);
// embeddings show ATOM_ID [--collection C] | embeddings delete COLLECTION ATOM_ID
void RunEmbeddingsShow(const Invocation& invocation);
void RunEmbeddingsDelete(const Invocation& invocation);

std::vector<OptionSpec> AddEmbeddingsOptions();
void RunAddEmbeddings(const Invocation& invocation);

}  // namespace hartonomous::cli
