// Content-defined chunking (FastCDC-style: a gear rolling hash with
// normalized chunking). A cut depends only on the bytes shortly before it, so
// inserting or deleting bytes in the middle of a file changes the chunks
// around the edit and leaves the later ones as they were.
//
// The gear table is fixed (splitmix64 from a fixed seed): cut points are
// part of the stored format and never change.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "server/engine/documents/decompose/decomposition.h"

namespace hartonomous::engine {

// End offsets of the chunks of data (the last one is data.size()); every
// chunk is within [min, max] bytes except a shorter last one.
// REQUIRES: ValidateOptions(options).ok().
std::vector<size_t> ChunkBoundaries(std::string_view data, const DecomposeOptions& options);

// The chunks as parts (subtype 'chunk').
std::vector<Part> ChunkParts(std::string_view data, const DecomposeOptions& options);

// Any content: modality as declared (or 'binary'), format 'binary'.
Decomposition DecomposeBinary(std::string_view data, std::string_view modality,
                              const DecomposeOptions& options);

}  // namespace hartonomous::engine
