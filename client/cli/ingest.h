// `hartonomous ingest`: files (or standard input) become atoms through
// IngestAtoms streams. Each stream is one server transaction (all of its atoms
// or none); a new stream starts when the content sent on the current one
// would exceed --max-stream-bytes, so neither side holds more than about that
// much. When a later stream fails, the earlier ones stay committed; their
// results are still printed and the tool exits 1.
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cli_args.h"

namespace hartonomous::cli {

// Default --max-stream-bytes.
inline constexpr uint64_t kDefaultMaxStreamBytes = uint64_t{256} << 20;
// canonical_text is set for text atoms up to this size (valid UTF-8 only).
inline constexpr size_t kMaxCanonicalTextBytes = 64 << 10;
// Protobuf messages cannot exceed 2 GiB; leave room for the other fields.
inline constexpr uint64_t kMaxAtomBytes = (uint64_t{2} << 30) - (uint64_t{1} << 20);

// The command's option specs, for the command table.
std::vector<OptionSpec> IngestOptions();

// REQUIRES: invocation.command is the ingest command.
void RunIngest(const Invocation& invocation);

}  // namespace hartonomous::cli
