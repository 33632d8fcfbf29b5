// Vector commands of `hartonomous`:
//   load-vectors FILE   rows of a .npy / .fvecs / IDX image file become atoms
//                       with one embedding each in a collection, in batches
//                       (one IngestAtoms and one AddEmbeddings stream each);
//                       a progress bar is drawn on a terminal
//   search COLLECTION   nearest atoms to a vector, a file row or an atom
//   collections         the collections with their sizes and index state
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <vector>

#include "cli_args.h"

namespace hartonomous::cli {

std::vector<OptionSpec> LoadVectorsOptions();
std::vector<OptionSpec> SearchOptions();
void RunLoadVectors(const Invocation& invocation);
void RunSearch(const Invocation& invocation);
void RunCollections(const Invocation& invocation);

}  // namespace hartonomous::cli
