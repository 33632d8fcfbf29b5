// libFuzzer target for content-defined chunking: the first 6 bytes choose
// the chunk sizes (min, avg, max, kept valid), the rest is the data. The
// boundaries must be increasing, end at the data's size, keep every chunk
// within [min, max] (the last may be shorter), and the chunks as parts must
// concatenate back to the data. Cut points depend only on nearby bytes, so
// chunking the data again from a boundary must reproduce the later cuts.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/engine/documents/decompose/chunker.h"

using namespace hartonomous::engine;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 6) return 0;
  auto u16 = [&](size_t i) { return static_cast<uint32_t>(data[i]) << 8 | data[i + 1]; };
  DecomposeOptions options;
  options.chunk_min = 64 + u16(0) % 1024;
  options.chunk_avg = options.chunk_min + u16(2) % 4096;
  options.chunk_max = options.chunk_avg + u16(4) % 8192;
  if (!ValidateOptions(options).ok()) std::abort();
  const std::string_view input(reinterpret_cast<const char*>(data) + 6, size - 6);

  const std::vector<size_t> ends = ChunkBoundaries(input, options);
  if (input.empty()) return 0;
  if (ends.empty() || ends.back() != input.size()) std::abort();
  size_t start = 0;
  for (size_t i = 0; i < ends.size(); ++i) {
    if (ends[i] <= start) std::abort();
    const size_t length = ends[i] - start;
    if (length > options.chunk_max) std::abort();
    if (length < options.chunk_min && i + 1 != ends.size()) std::abort();
    start = ends[i];
  }
  std::string joined;
  for (const Part& part : ChunkParts(input, options)) joined += part.content;
  if (joined != input) std::abort();
  // Resynchronization: from the second boundary on, the cuts of the suffix
  // are the cuts of the whole, shifted.
  if (ends.size() >= 3) {
    const size_t from = ends[0];
    const std::vector<size_t> rest = ChunkBoundaries(input.substr(from), options);
    if (rest.size() != ends.size() - 1) std::abort();
    for (size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] + from != ends[i + 1]) std::abort();
    }
  }
  return 0;
}
