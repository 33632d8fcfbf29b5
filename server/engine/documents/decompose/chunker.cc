#include "server/engine/documents/decompose/chunker.h"

#include <array>
#include <bit>
#include <cstdint>

namespace hartonomous::engine {
namespace {

std::array<uint64_t, 256> MakeGear() {
  std::array<uint64_t, 256> gear{};
  uint64_t state = 0x48617274'6f6e6f6dULL;  // fixed seed: part of the format
  for (auto& g : gear) {
    state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    g = z ^ (z >> 31);
  }
  return gear;
}

const std::array<uint64_t, 256>& Gear() {
  static const std::array<uint64_t, 256> gear = MakeGear();
  return gear;
}

// A mask of `bits` ones in the high bits: the high bits of the gear hash
// depend on the last 64 bytes.
uint64_t HighMask(int bits) {
  if (bits <= 0) return 0;
  if (bits >= 64) return ~uint64_t{0};
  return ~uint64_t{0} << (64 - bits);
}

}  // namespace

std::vector<size_t> ChunkBoundaries(std::string_view data, const DecomposeOptions& options) {
  const auto& gear = Gear();
  const int avg_bits = std::bit_width(options.chunk_avg) - 1;
  const uint64_t mask_small = HighMask(avg_bits + 2);  // harder before the average
  const uint64_t mask_large = HighMask(avg_bits - 2);  // easier after it
  std::vector<size_t> cuts;
  size_t start = 0;
  const size_t n = data.size();
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  while (start < n) {
    const size_t remaining = n - start;
    if (remaining <= options.chunk_min) {
      cuts.push_back(n);
      break;
    }
    const size_t limit = std::min<size_t>(remaining, options.chunk_max);
    const size_t normal = std::min<size_t>(limit, options.chunk_avg);
    uint64_t fp = 0;
    size_t i = options.chunk_min;
    size_t cut = limit;
    // The hash warms up over the 64 bytes before min so that the cut
    // decision never depends on bytes before the chunk's start.
    for (size_t k = options.chunk_min >= 64 ? options.chunk_min - 64 : 0; k < i; ++k) {
      fp = (fp << 1) + gear[p[start + k]];
    }
    for (; i < normal; ++i) {
      fp = (fp << 1) + gear[p[start + i]];
      if ((fp & mask_small) == 0) {
        cut = i + 1;
        goto found;
      }
    }
    for (; i < limit; ++i) {
      fp = (fp << 1) + gear[p[start + i]];
      if ((fp & mask_large) == 0) {
        cut = i + 1;
        goto found;
      }
    }
  found:
    start += cut;
    cuts.push_back(start);
  }
  return cuts;
}

std::vector<Part> ChunkParts(std::string_view data, const DecomposeOptions& options) {
  std::vector<Part> parts;
  size_t begin = 0;
  for (size_t end : ChunkBoundaries(data, options)) {
    parts.push_back(Leaf(std::string(data.substr(begin, end - begin)), "chunk"));
    begin = end;
  }
  return parts;
}

Decomposition DecomposeBinary(std::string_view data, std::string_view modality,
                              const DecomposeOptions& options) {
  Decomposition d;
  d.modality = modality.empty() ? "binary" : std::string(modality);
  d.format = "binary";
  d.parts = ChunkParts(data, options);
  d.info = {{"format", "binary"},
            {"size", data.size()},
            {"chunks", d.parts.size()},
            {"chunk_min", options.chunk_min},
            {"chunk_avg", options.chunk_avg},
            {"chunk_max", options.chunk_max}};
  return d;
}

}  // namespace hartonomous::engine
